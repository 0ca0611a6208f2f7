#include "style/theme.hpp"

#include <QHash>

namespace segforge::ui {
namespace {
Theme g_current = Theme::make(true);
}

Theme Theme::make(bool dark) {
    Theme t;
    t.dark = dark;
    if (dark) {
        t.canvas = QColor(0x1d, 0x1f, 0x23);
        t.gridMinor = QColor(0x25, 0x28, 0x2d);
        t.gridMajor = QColor(0x2e, 0x32, 0x39);
        t.nodeBody = QColor(0x2a, 0x2d, 0x33);
        t.nodeBorder = QColor(0x3b, 0x40, 0x48);
        t.nodeSelected = QColor(0x5a, 0xa9, 0xff);
        t.nodeTitleText = QColor(0xf4, 0xf6, 0xf8);
        t.text = QColor(0xd9, 0xdd, 0xe3);
        t.textDim = QColor(0x8c, 0x93, 0x9d);
        t.wire = QColor(0x8a, 0x93, 0xa0);
        t.wireLabelBack = QColor(0x23, 0x26, 0x2b, 235);
        t.error = QColor(0xff, 0x5f, 0x5f);
        t.warning = QColor(0xf2, 0xc1, 0x4e);
        t.ok = QColor(0x5c, 0xd0, 0x8a);
        t.running = QColor(0x4f, 0xc3, 0xf7);
    } else {
        t.canvas = QColor(0xf3, 0xf4, 0xf6);
        t.gridMinor = QColor(0xe7, 0xe9, 0xec);
        t.gridMajor = QColor(0xd9, 0xdc, 0xe1);
        t.nodeBody = QColor(0xff, 0xff, 0xff);
        t.nodeBorder = QColor(0xc5, 0xca, 0xd2);
        t.nodeSelected = QColor(0x1f, 0x6f, 0xeb);
        t.nodeTitleText = QColor(0xff, 0xff, 0xff);
        t.text = QColor(0x24, 0x29, 0x2f);
        t.textDim = QColor(0x6a, 0x73, 0x7d);
        t.wire = QColor(0x6e, 0x77, 0x81);
        t.wireLabelBack = QColor(0xff, 0xff, 0xff, 235);
        t.error = QColor(0xd7, 0x26, 0x26);
        t.warning = QColor(0xb8, 0x86, 0x00);
        t.ok = QColor(0x1a, 0x7f, 0x37);
        t.running = QColor(0x00, 0x78, 0xd4);
    }
    return t;
}

const Theme& Theme::current() {
    return g_current;
}
void Theme::setDark(bool dark) {
    g_current = make(dark);
}

QColor Theme::categoryColor(const QString& category) const {
    static const QHash<QString, QColor> colors{
        {"Input", QColor(0x2f, 0x9e, 0x6e)},         {"Preprocessing", QColor(0x6b, 0x8e, 0x23)},
        {"Convolution", QColor(0x34, 0x74, 0xc4)},   {"Pooling", QColor(0x6a, 0x5a, 0xcd)},
        {"Resize", QColor(0x8e, 0x63, 0xc4)},        {"Merge", QColor(0xd0, 0x8a, 0x2e)},
        {"Normalization", QColor(0x1f, 0x9e, 0xa8)}, {"Regularization", QColor(0x70, 0x78, 0x84)},
        {"Activation", QColor(0xc2, 0x55, 0x4d)},    {"Loss", QColor(0xc7, 0x3a, 0x63)},
        {"Metric", QColor(0x9b, 0x59, 0xb6)},
    };
    return colors.value(category, QColor(0x66, 0x70, 0x7a));
}

QColor Theme::dtypeColor(core::DType dtype) const {
    switch (dtype) {
    case core::DType::Float32:
        return dark ? QColor(0x6c, 0xb6, 0xff) : QColor(0x1f, 0x6f, 0xeb);
    case core::DType::UInt8:
        return dark ? QColor(0xff, 0xa6, 0x57) : QColor(0xd0, 0x6b, 0x00);
    case core::DType::UInt16:
        return dark ? QColor(0xf0, 0xc4, 0x4c) : QColor(0xa8, 0x7b, 0x00);
    case core::DType::Int32:
        return dark ? QColor(0xd2, 0x8c, 0xf0) : QColor(0x8a, 0x3f, 0xc7);
    case core::DType::Bool:
        return dark ? QColor(0x8f, 0xd6, 0x8f) : QColor(0x2d, 0x8a, 0x2d);
    }
    return wire;
}

bool Theme::isDark(const QPalette& palette) {
    return palette.color(QPalette::Window).lightness() < 128;
}

} // namespace segforge::ui
