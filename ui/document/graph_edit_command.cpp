#include "document/graph_edit_command.hpp"

#include "document/document.hpp"

namespace segforge::ui {

GraphEditCommand::GraphEditCommand(Document* document, core::EditScript edits, const QString& text)
    : QUndoCommand(text), m_document(document), m_edits(std::move(edits)) {}

void GraphEditCommand::redo() {
    core::EditOutcome outcome = m_document->applyRaw(m_edits);
    m_failed = !outcome.ok;
    m_error = QString::fromStdString(outcome.error);
    m_inverse = std::move(outcome.inverse);
}

void GraphEditCommand::undo() {
    // The inverse of the inverse is the redo script, recomputed against the
    // exact state undo leaves behind.
    core::EditOutcome outcome = m_document->applyRaw(m_inverse);
    m_edits = std::move(outcome.inverse);
}

} // namespace segforge::ui
