#pragma once

#include <QFrame>

class QCheckBox;
class QPushButton;

namespace segforge::ui {

/// Three steps a new user needs, over the canvas's top-left corner: the type
/// on every wire, a red wire and its Fix, and where training happens. Shown
/// once per user unless "Don't show again" is cleared; Help shows it again.
class FirstRunHint : public QFrame {
    Q_OBJECT
public:
    /// Placed over `canvas` (the graph view's viewport), hidden until shown.
    explicit FirstRunHint(QWidget* canvas);

    /// Shows it unless the user dismissed it with "Don't show again" before.
    /// True if shown.
    bool offer();
    /// Shows it whatever was answered before (Help → Getting Started).
    void showHint();
    /// Whether a user dismissed it for good (per user, QSettings).
    static bool dismissed();

    QPushButton* closeButton() const { return m_close; }
    QCheckBox* dontShowAgain() const { return m_dontShow; }

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void place();
    void dismiss();

    QPushButton* m_close;
    QCheckBox* m_dontShow;
};

} // namespace segforge::ui
