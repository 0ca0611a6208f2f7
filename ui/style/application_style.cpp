#include "style/application_style.hpp"

#include "style/theme.hpp"

#include <QApplication>
#include <QPalette>
#include <QStyle>
#include <QStyleFactory>

namespace segforge::ui {

void applyApplicationStyle(bool dark) {
    QApplication::setStyle(QStyleFactory::create("Fusion"));
    const Theme& t = Theme::current();
    QPalette p;
    if (dark) {
        const QColor window(0x25, 0x28, 0x2d), base(0x1d, 0x1f, 0x23), alt(0x2a, 0x2d, 0x33);
        p.setColor(QPalette::Window, window);
        p.setColor(QPalette::WindowText, t.text);
        p.setColor(QPalette::Base, base);
        p.setColor(QPalette::AlternateBase, alt);
        p.setColor(QPalette::ToolTipBase, QColor(0x30, 0x34, 0x3b));
        p.setColor(QPalette::ToolTipText, t.text);
        p.setColor(QPalette::Text, t.text);
        p.setColor(QPalette::Button, alt);
        p.setColor(QPalette::ButtonText, t.text);
        p.setColor(QPalette::BrightText, t.error);
        p.setColor(QPalette::Highlight, t.nodeSelected.darker(140));
        p.setColor(QPalette::HighlightedText, Qt::white);
        p.setColor(QPalette::PlaceholderText, t.textDim);
        p.setColor(QPalette::Mid, t.textDim);
        p.setColor(QPalette::Disabled, QPalette::Text, t.textDim);
        p.setColor(QPalette::Disabled, QPalette::ButtonText, t.textDim);
    } else {
        p = QApplication::style()->standardPalette();
        p.setColor(QPalette::Highlight, t.nodeSelected);
    }
    QApplication::setPalette(p);
    qApp->setStyleSheet(QStringLiteral("QDockWidget::title { padding: 5px 8px; font-weight: 600; }"
                                       "QToolBar { spacing: 4px; padding: 3px; border: none; }"
                                       "QToolButton { padding: 4px 8px; border-radius: 4px; }"
                                       "QToolButton:hover { background: palette(alternate-base); }"
                                       "QTreeWidget, QTableWidget, QListWidget { border: none; }"));
}

} // namespace segforge::ui
