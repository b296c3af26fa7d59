#include "cfdt.h"
