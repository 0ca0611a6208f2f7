#pragma once

namespace segforge::ui {

/// Fusion style with a dark or light palette tuned to the canvas colours.
void applyApplicationStyle(bool dark);

} // namespace segforge::ui
