#include "training/overlay_detail_dialog.hpp"

#include "training/image_view.hpp"
#include "training/overlay_panel.hpp"
#include "training/overlay_render.hpp"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>
#include <algorithm>

namespace segforge::ui {

using overlay::kDetailPanel;

OverlayDetailDialog::OverlayDetailDialog(QWidget* parent)
    : QDialog(parent) {
    setWindowTitle(OverlayPanel::tr("Prediction"));
    auto* layout = new QVBoxLayout(this);
    m_info = new QLabel(this);
    QFont f = m_info->font();
    f.setBold(true);
    m_info->setFont(f);
    m_info->setWordWrap(true);
    layout->addWidget(m_info);
    m_grid = new QGridLayout;
    m_grid->setSpacing(6);
    for (int i = 0; i < 4; ++i) {
        m_titles[i] = new QLabel(this);
        m_titles[i]->setAlignment(Qt::AlignCenter);
        m_pictures[i] = new ImageView(this);
        m_pictures[i]->setPreferredSize(QSize(kDetailPanel, kDetailPanel));
    }
    layout->addLayout(m_grid, 1);
    auto* close = new QPushButton(OverlayPanel::tr("Close"), this);
    connect(close, &QPushButton::clicked, this, &QDialog::close);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(close);
    layout->addLayout(buttons);
    resize(2 * kDetailPanel + 40, 2 * kDetailPanel + 120);
}

void OverlayDetailDialog::showPanels(const QString& info,
                                     const std::vector<std::pair<QString, cv::Mat>>& panels) {
    m_info->setText(info);
    const int n = static_cast<int>(panels.size());
    const int columns = n == 4 ? 2 : std::max(n, 1);
    for (int r = 0; r < 4; ++r)
        m_grid->setRowStretch(r, 0);
    for (int i = 0; i < 4; ++i) {
        m_grid->removeWidget(m_titles[i]);
        m_grid->removeWidget(m_pictures[i]);
        const bool used = i < n;
        m_titles[i]->setVisible(used);
        m_pictures[i]->setVisible(used);
        if (!used)
            continue;
        m_grid->addWidget(m_titles[i], (i / columns) * 2, i % columns);
        m_grid->addWidget(m_pictures[i], (i / columns) * 2 + 1, i % columns);
        m_grid->setRowStretch((i / columns) * 2 + 1, 1);
        m_titles[i]->setText(panels[static_cast<std::size_t>(i)].first);
        const QImage img = toQImage(panels[static_cast<std::size_t>(i)].second);
        m_pictures[i]->setImage(img);
        m_pictures[i]->setToolTip(img.isNull() ? OverlayPanel::tr("no ground truth for this image")
                                               : QString());
    }
    if (!isVisible())
        resize(columns * (kDetailPanel + 6) + 30, (n == 4 ? 2 : 1) * (kDetailPanel + 30) + 90);
    show();
    raise();
}

} // namespace segforge::ui
