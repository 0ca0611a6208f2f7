#pragma once

#include "layout/node_geometry.hpp"
#include "tensor/dtype.hpp"

#include <QColor>
#include <QFont>
#include <QPalette>
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
    /// Whether a widget's palette is a dark one: plots and image views follow
    /// their palette (a test may give one widget a light palette in a dark app).
    static bool isDark(const QPalette& palette);
};

/// The node box's sizes: the core layout's numbers (core/layout/node_geometry),
/// so what the canvas draws is what the layout and the wire router planned.
namespace metrics {
using namespace core::node_metrics;
inline constexpr double kNodeWidth = core::node_metrics::kWidth;
} // namespace metrics

} // namespace segforge::ui
