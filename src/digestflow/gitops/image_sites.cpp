#include "digestflow/gitops/image_sites.hpp"
