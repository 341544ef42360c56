#include "digestflow/gitops/pin_plan.hpp"
