#pragma once

#include "tensor/dtype.hpp"

#include <QColor>
#include <QFont>
#include <QString>

namespace segforge::ui {

/// Every colour and size the canvas and panels use, in one place, so the dark
/// and light looks stay consistent.
struct Theme {
    bool dark = true;
    QColor canvas, gridMinor, gridMajor;
    QColor nodeBody, nodeBorder, nodeSelected, nodeTitleText, text, textDim;
    QColor wire, wireLabelBack, error, warning, ok;
    QColor running; ///< the node being executed while stepping

    QColor categoryColor(const QString& category) const;
    QColor dtypeColor(core::DType dtype) const;

    static const Theme& current();
    static void setDark(bool dark);
    static Theme make(bool dark);
};

namespace metrics {
inline constexpr double kNodeWidth = 168;
inline constexpr double kTitleHeight = 26;
inline constexpr double kPortRow = 20;
inline constexpr double kPortRadius = 5.5;
inline constexpr double kGrid = 20;
} // namespace metrics

} // namespace segforge::ui
