#pragma once

#include <QObject>

class QWidget;

namespace segforge::ui {

/// Keeps a zoomable widget (a plot) inside a scrolling panel from stealing the
/// scroll wheel: until the widget is clicked (has focus) the wheel scrolls the
/// enclosing scroll area; once focused, it zooms the widget as before.
class WheelGuard : public QObject {
    Q_OBJECT
public:
    /// Guards `widget` (and gives it click focus so a click opts into zooming).
    explicit WheelGuard(QWidget* widget);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    QWidget* m_widget;
};

} // namespace segforge::ui
