#pragma once
#include "a/y.hpp"
