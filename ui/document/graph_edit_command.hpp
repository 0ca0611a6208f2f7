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
    /// Edits that set one attribute share an id, so QUndoStack offers them to mergeWith().
    int id() const override;
    /// Consecutive sets of the same attribute of the same node are one undo
    /// step (a spin-box drag from 16 to 32, not sixteen): the merged command
    /// keeps the first one's inverse and the last one's value.
    bool mergeWith(const QUndoCommand* other) override;

    bool failed() const { return m_failed; }
    const QString& error() const { return m_error; }

private:
    /// The edit when the command is exactly one SetAttributeEdit, else nullptr.
    const core::SetAttributeEdit* singleAttributeEdit() const;

    Document* m_document;
    core::EditScript m_edits;
    core::EditScript m_inverse;
    bool m_failed = false;
    QString m_error;
};

} // namespace segforge::ui
