#include "digestflow/gitops/unified_diff.hpp"
