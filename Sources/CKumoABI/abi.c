#include "kumo_abi.h"
