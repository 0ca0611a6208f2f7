#pragma once
#include "b/x.hpp"
