#include "document/graph_edit_command.hpp"

#include "document/document.hpp"

namespace segforge::ui {

GraphEditCommand::GraphEditCommand(Document* document, core::EditScript edits, const QString& text)
    : QUndoCommand(text)
    , m_document(document)
    , m_edits(std::move(edits)) {}

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

namespace {

constexpr int kSetAttributeId = 0x5e7a;

} // namespace

const core::SetAttributeEdit* GraphEditCommand::singleAttributeEdit() const {
    if (m_edits.size() != 1 || m_inverse.size() != 1 || m_failed)
        return nullptr;
    return std::get_if<core::SetAttributeEdit>(&m_edits.front());
}

int GraphEditCommand::id() const {
    return singleAttributeEdit() ? kSetAttributeId : -1;
}

bool GraphEditCommand::mergeWith(const QUndoCommand* other) {
    const auto* next = dynamic_cast<const GraphEditCommand*>(other);
    const core::SetAttributeEdit* mine = singleAttributeEdit();
    const core::SetAttributeEdit* theirs = next ? next->singleAttributeEdit() : nullptr;
    if (!mine || !theirs || next->m_document != m_document || mine->node != theirs->node ||
        mine->name != theirs->name)
        return false;
    m_edits = next->m_edits; // m_inverse still restores the value before the first edit
    // Back where it started (16 → 32 → 16): nothing left to undo.
    const auto* before = std::get_if<core::SetAttributeEdit>(&m_inverse.front());
    setObsolete(before && before->value == theirs->value);
    return true;
}

} // namespace segforge::ui
