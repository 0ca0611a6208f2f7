#pragma once

#include "graph/graph.hpp"

#include <QWidget>
#include <map>

class QFormLayout;
class QLabel;
class QLineEdit;

namespace segforge::ui {

class Document;

/// Editors generated from the selected node's schema: one typed editor per
/// attribute (ranges from the schema), plus the node's input and output types.
/// Every change is one undoable SetAttribute / Rename command.
class PropertiesPanel : public QWidget {
    Q_OBJECT
public:
    explicit PropertiesPanel(Document* document, QWidget* parent = nullptr);

    void showNode(core::NodeId id);
    core::NodeId node() const { return m_node; }
    /// The editor widget of an attribute (for tests and focus handling).
    QWidget* editor(const std::string& attr) const;
    QString typesText() const;
    /// A chosen path as the attribute stores it: relative to the project's
    /// folder when it lies beside or under it, else absolute.
    static QString projectRelative(const QString& path, const QString& projectPath);

private:
    void rebuild();
    void refreshValues();
    void commit(const std::string& attr, const core::AttrValue& value);
    /// Commits what was typed but not yet confirmed (Enter or leaving the field).
    void commitPending();
    /// The line edit with a Browse… button for a folder or file attribute.
    QWidget* pathRow(QLineEdit* edit, const std::string& attr, bool folder);

    Document* m_document;
    core::NodeId m_node = core::kNoNode;
    std::string m_op;
    QLabel* m_header;
    QLabel* m_description;
    QLineEdit* m_name;
    QLabel* m_types;
    QWidget* m_formHost;
    QFormLayout* m_form = nullptr;
    std::map<std::string, QWidget*> m_editors;
};

} // namespace segforge::ui
