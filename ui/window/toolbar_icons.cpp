#include "window/toolbar_icons.hpp"

#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

namespace segforge::ui {

namespace {

void draw(QPainter& p, ToolbarIcon which) {
    // Drawn on a 16×16 grid; the painter is scaled for larger sizes.
    const QColor ink(0x9a, 0xa8, 0xba);
    p.setRenderHint(QPainter::Antialiasing);
    switch (which) {
    case ToolbarIcon::Fit: {
        p.setPen(QPen(ink, 1.6, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        const qreal a = 2, b = 14, l = 4;
        for (const auto& [x, y, dx, dy] :
             {std::tuple{a, a, 1, 1}, {b, a, -1, 1}, {a, b, 1, -1}, {b, b, -1, -1}}) {
            QPainterPath path({x + dx * l, y});
            path.lineTo(x, y);
            path.lineTo(x, y + dy * l);
            p.drawPath(path);
        }
        p.setBrush(ink);
        p.setPen(Qt::NoPen);
        p.drawRoundedRect(QRectF(5.5, 6, 5, 4), 1, 1);
        break;
    }
    case ToolbarIcon::Layout: {
        // Encoder down the left, bottleneck, decoder up the right, one skip across.
        const QPointF boxes[] = {{3, 3.5}, {5, 8}, {8, 12.5}, {11, 8}, {13, 3.5}};
        p.setPen(QPen(ink, 1.1));
        for (int i = 0; i + 1 < 5; ++i)
            p.drawLine(boxes[i], boxes[i + 1]);
        p.setPen(QPen(ink, 1, Qt::DotLine));
        p.drawLine(boxes[0], boxes[4]);
        p.setPen(Qt::NoPen);
        p.setBrush(ink);
        for (const QPointF& c : boxes)
            p.drawRoundedRect(QRectF(c.x() - 2, c.y() - 1.6, 4, 3.2), 0.8, 0.8);
        break;
    }
    }
}

} // namespace

QIcon toolbarIcon(ToolbarIcon which) {
    QIcon icon;
    for (int size : {16, 32}) {
        QPixmap pixmap(size, size);
        pixmap.fill(Qt::transparent);
        QPainter p(&pixmap);
        p.scale(size / 16.0, size / 16.0);
        draw(p, which);
        p.end();
        icon.addPixmap(pixmap);
    }
    return icon;
}

} // namespace segforge::ui
