#pragma once

#include "graph/graph.hpp"

#include <QFrame>
#include <map>
#include <optional>

class QLabel;

namespace segforge::ui {

/// The key to the gradient view, over the canvas's bottom-left corner: the
/// wire colour ramp (blue: the smallest L2 norm of the latest step, orange:
/// the largest) with both numbers, and that a wire's width grows with the log
/// of its norm. The canvas draws the wires (GraphScene::setGradientNorms);
/// this only explains them, with the same extremes.
class GradientLegend : public QFrame {
    Q_OBJECT
public:
    /// Placed over `canvas` (the graph view's viewport), hidden until shown.
    explicit GradientLegend(QWidget* canvas);

    /// The norms the wires are drawn with, after training step `step`.
    void setNorms(const std::map<core::PortRef, double>& norms, qint64 step);
    /// The extremes shown (positive, finite norms only, as the wires use), or nullopt before a
    /// step.
    std::optional<std::pair<double, double>> range() const { return m_range; }
    QString minText() const;
    QString maxText() const;

    /// "0.00123": three significant digits, as the wires' tooltips show them.
    static QString formatNorm(double norm);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    void place();

    QLabel* m_title;
    QWidget* m_ramp;
    QLabel* m_min;
    QLabel* m_max;
    QLabel* m_width;
    std::optional<std::pair<double, double>> m_range;
};

} // namespace segforge::ui
