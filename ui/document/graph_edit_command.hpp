#pragma once

#include "graph/graph_edit.hpp"

#include <QUndoCommand>

namespace segforge::ui {

class Document;

/// One undoable edit of the document's graph: a core EditScript and the
/// inverse the core computed when it was applied. A drag is committed once, at
/// mouse release, so it is undone in one step.
class GraphEditCommand : public QUndoCommand {
public:
    GraphEditCommand(Document* document, core::EditScript edits, const QString& text);

    void redo() override;
    void undo() override;

    bool failed() const { return m_failed; }
    const QString& error() const { return m_error; }

private:
    Document* m_document;
    core::EditScript m_edits;
    core::EditScript m_inverse;
    bool m_failed = false;
    QString m_error;
};

} // namespace segforge::ui
