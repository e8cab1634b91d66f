#include "core/log/log.h"
