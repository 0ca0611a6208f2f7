#pragma once

#include <QJsonObject>
#include <QSize>
#include <QStringList>

class QWidget;

namespace segforge::ui {

class GraphView;

/// What a person would judge looking at the window: is the whole network in
/// view, are names readable, does anything hide anything. Measured from the
/// real items and widgets after a paint, not from what the layout meant.
struct ViewReport {
    QSize window;
    double zoom = 1;
    int nodesTotal = 0;
    int nodesVisible =
        0; ///< nodes wholly inside the viewport (box, or name plate when zoomed far out)
    double minTitlePx = 0; ///< smallest title text height on screen among visible nodes (pixels)
    int nodeOverlaps = 0;  ///< pairs of intersecting node boxes
    int wiresThroughNodes = 0; ///< wires crossing the box of a node that is neither of their ends
    int labelsHidden = 0;      ///< wire labels in view but covered, unplaced or not drawn
    bool labelsCollapsed = false; ///< zoomed out: wire labels are the types written on the nodes
    QStringList clippedWidgets;   ///< docks, buttons, labels cut by the window edge or elided
    /// The culprits, for a reader of the report: "a × b", "a→b through c", "a→b".
    QStringList overlapping, wiresThrough, hiddenLabels;

    QJsonObject toJson() const;
};

/// Measures `view` (repainting it first) and, when `window` is given, the
/// widgets of that window.
ViewReport measureView(GraphView* view, QWidget* window = nullptr);

/// Visible widgets of `window` cut by its edge (outside a scroll area) or whose
/// text does not fit (tool buttons, push buttons, labels without word wrap),
/// and tool bars that pushed actions into their overflow menu.
QStringList clippedWidgets(QWidget* window);

} // namespace segforge::ui
