#include "window/first_run_hint.hpp"

#include <QCheckBox>
#include <QEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

namespace segforge::ui {

namespace {
const char* kDismissedKey = "hints/firstRunDismissed";
constexpr int kMargin = 12; ///< from the canvas's edges
constexpr int kWidth = 340; ///< narrow enough for a 1280×720 canvas with its docks
} // namespace

FirstRunHint::FirstRunHint(QWidget* canvas)
    : QFrame(canvas) {
    setObjectName("first-run-hint");
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true); // readable over wires and nodes
    setBackgroundRole(QPalette::ToolTipBase);
    setForegroundRole(QPalette::ToolTipText);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 10, 12, 10);
    layout->setSpacing(6);
    auto* title = new QLabel(tr("<b>Reading your network</b>"), this);
    title->setWordWrap(true);
    layout->addWidget(title);
    const QString steps[] = {
        tr("Every wire shows the tensor type flowing along it (N×H×W×C and dtype)."),
        tr("A red wire is a mistake: hover it to read why, then click Fix in Diagnostics."),
        tr("Train (Ctrl+2, or the Train button) trains the network right here."),
    };
    auto* grid = new QGridLayout();
    grid->setHorizontalSpacing(8);
    grid->setVerticalSpacing(4);
    int row = 0;
    for (const QString& step : steps) {
        auto* number = new QLabel(QStringLiteral("<b>%1</b>").arg(row + 1), this);
        auto* text = new QLabel(step, this);
        text->setObjectName(QStringLiteral("first-run-step-%1").arg(row + 1));
        text->setWordWrap(true);
        grid->addWidget(number, row, 0, Qt::AlignTop);
        grid->addWidget(text, row, 1);
        ++row;
    }
    grid->setColumnStretch(1, 1);
    layout->addLayout(grid);
    auto* buttons = new QHBoxLayout();
    m_dontShow = new QCheckBox(tr("Don't show again"), this);
    m_dontShow->setChecked(true);
    m_close = new QPushButton(tr("Got it"), this);
    m_close->setObjectName("first-run-hint-close");
    m_close->setToolTip(tr("Close this hint (Help → Getting Started shows it again)"));
    buttons->addWidget(m_dontShow);
    buttons->addStretch();
    buttons->addWidget(m_close);
    layout->addLayout(buttons);
    connect(m_close, &QPushButton::clicked, this, &FirstRunHint::dismiss);
    canvas->installEventFilter(this); // follow the canvas's size
    hide();
}

bool FirstRunHint::dismissed() {
    return QSettings().value(kDismissedKey, false).toBool();
}

bool FirstRunHint::offer() {
    if (dismissed())
        return false;
    showHint();
    return true;
}

void FirstRunHint::showHint() {
    place();
    show();
    raise();
}

void FirstRunHint::dismiss() {
    QSettings().setValue(kDismissedKey, m_dontShow->isChecked());
    hide();
}

void FirstRunHint::place() {
    const QWidget* canvas = parentWidget();
    const int width = std::min(kWidth, canvas->width() - 2 * kMargin);
    setFixedWidth(std::max(200, width));
    setFixedHeight(heightForWidth(this->width()) > 0 ? heightForWidth(this->width())
                                                     : sizeHint().height());
    move(kMargin, kMargin);
}

bool FirstRunHint::eventFilter(QObject* watched, QEvent* event) {
    if (watched == parentWidget() && event->type() == QEvent::Resize && isVisible())
        place();
    return QFrame::eventFilter(watched, event);
}

} // namespace segforge::ui
