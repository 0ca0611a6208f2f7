#include "training/wheel_guard.hpp"

#include <QAbstractScrollArea>
#include <QCoreApplication>
#include <QEvent>
#include <QWidget>

namespace segforge::ui {

WheelGuard::WheelGuard(QWidget* widget)
    : QObject(widget)
    , m_widget(widget) {
    widget->setFocusPolicy(Qt::ClickFocus);
    widget->installEventFilter(this);
}

bool WheelGuard::eventFilter(QObject* watched, QEvent* event) {
    if (watched != m_widget || event->type() != QEvent::Wheel || m_widget->hasFocus())
        return QObject::eventFilter(watched, event);
    for (QWidget* p = m_widget->parentWidget(); p; p = p->parentWidget()) {
        if (auto* area = qobject_cast<QAbstractScrollArea*>(p)) {
            QCoreApplication::sendEvent(area->viewport(), event);
            return true;
        }
    }
    return true; // no panel to scroll: the wheel does nothing rather than zoom by surprise
}

} // namespace segforge::ui
