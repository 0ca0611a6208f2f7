#pragma once

#include <QIcon>

namespace segforge::ui {

/// Toolbar pictures the platform style lacks, drawn here (nothing is
/// downloaded or themed): in a mid grey that reads on the dark and the light theme.
enum class ToolbarIcon {
    Fit,    ///< four corner brackets: the whole graph in view
    Layout, ///< five boxes in a U: the U-Net layout
};

/// The icon, at 16 and 32 pixels.
QIcon toolbarIcon(ToolbarIcon which);

} // namespace segforge::ui
