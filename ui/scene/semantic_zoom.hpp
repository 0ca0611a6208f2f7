#pragma once

#include <algorithm>

namespace segforge::ui {

/// What the canvas draws at a zoom. Zooming out collapses details in a fixed
/// order — attributes, then port names, then wire labels (into the output type
/// shown on each node) — while the name and the output type stay readable:
/// their fonts grow in canvas units as the zoom shrinks, so their size on
/// screen never falls below a floor.
enum class Detail {
    Full,         ///< title, op and attributes, port names, wire labels
    NoAttributes, ///< attributes collapse: the subtitle is the op alone
    Compact,      ///< port names and wire labels collapse: name + output type in the box
    Overview,     ///< name + output type on a plate that keeps a readable size on screen
};

namespace semantic_zoom {

/// Zoom thresholds (view scale, 1 = 100 %).
inline constexpr double kFullZoom = 0.9;
/// Wire labels and port names show from here up. Chosen so the largest label
/// (kMinTextScreenPx / kLabelZoom = 11 px) fits between two nodes of the layout.
inline constexpr double kLabelZoom = 0.82;
inline constexpr double kCompactZoom = 0.45;

/// Text sizes in canvas pixels at 100 %, and the on-screen floors (pixels).
inline constexpr double kTitlePx = 13;
inline constexpr double kTextPx = 11;
inline constexpr double kMinTitleScreenPx = 11;
inline constexpr double kMinTextScreenPx = 9;

inline Detail detailAt(double zoom) {
    zoom += 1e-9; // a painter's scale is the view's up to rounding
    if (zoom >= kFullZoom)
        return Detail::Full;
    if (zoom >= kLabelZoom)
        return Detail::NoAttributes;
    if (zoom >= kCompactZoom)
        return Detail::Compact;
    return Detail::Overview;
}

inline bool wireLabelsShown(double zoom) {
    return zoom + 1e-9 >= kLabelZoom;
}

/// Font size in canvas pixels that is `natural` at 100 % and never smaller than
/// `floorPx` on screen.
inline double scenePx(double natural, double floorPx, double zoom) {
    return std::max(natural, floorPx / std::max(zoom, 1e-3));
}
inline double titlePx(double zoom) {
    return scenePx(kTitlePx, kMinTitleScreenPx, zoom);
}
inline double textPx(double zoom) {
    return scenePx(kTextPx, kMinTextScreenPx, zoom);
}
/// The wire-label font the label placement plans with: the largest a label
/// is ever drawn (at kLabelZoom), so a label placed clear of nodes stays clear
/// at every zoom it shows at.
inline double labelPlacementPx() {
    return textPx(kLabelZoom);
}

} // namespace semantic_zoom
} // namespace segforge::ui
