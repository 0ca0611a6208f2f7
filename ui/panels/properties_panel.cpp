#include "panels/properties_panel.hpp"

#include "data/data_probe.hpp"
#include "document/document.hpp"
#include "ops/op_ports.hpp"
#include "ops/op_registry.hpp"
#include "window/dialog_folder.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleValidator>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>
#include <climits>

namespace segforge::ui {

using core::AttrType;
using core::AttrValue;

PropertiesPanel::PropertiesPanel(Document* document, QWidget* parent)
    : QWidget(parent)
    , m_document(document) {
    // Everything scrolls together: in a short dock the attribute rows stay reachable
    // instead of being squeezed under the header and the type summary.
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* content = new QWidget(scroll);
    auto* column = new QVBoxLayout(content);
    column->setContentsMargins(8, 8, 8, 8);
    m_header = new QLabel(this);
    QFont f = m_header->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() + 1.5);
    m_header->setFont(f);
    m_description = new QLabel(this);
    m_description->setWordWrap(true);
    m_description->setForegroundRole(QPalette::PlaceholderText);
    m_name = new QLineEdit(this);
    m_name->setPlaceholderText(tr("node name"));
    m_types = new QLabel(this);
    m_types->setTextFormat(Qt::RichText);
    m_types->setWordWrap(true);
    m_types->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_formHost = new QWidget(this);
    column->addWidget(m_header);
    column->addWidget(m_description);
    column->addWidget(m_name);
    // The types go under the attributes: their text grows and shrinks with
    // every edit (data rows, problems), and must not move the field being typed in.
    column->addWidget(m_formHost);
    column->addWidget(m_types);
    column->addStretch(1);
    scroll->setWidget(content);
    outer->addWidget(scroll);

    connect(m_name, &QLineEdit::editingFinished, this, [this] {
        const core::Node* n = m_document->graph().findNode(m_node);
        const std::string name = m_name->text().trimmed().toStdString();
        if (!n || name.empty() || name == n->name)
            return;
        if (m_document->graph().findNodeByName(name)) {
            m_name->setText(QString::fromStdString(n->name));
            m_name->setToolTip(
                tr("'%1' is already used by another node").arg(QString::fromStdString(name)));
            return;
        }
        m_document->applyEdits({core::RenameNodeEdit{m_node, name}}, tr("Rename node"));
    });
    connect(document, &Document::changed, this, [this] {
        const core::Node* n = m_document->graph().findNode(m_node);
        if (!n) {
            showNode(core::kNoNode);
        } else if (n->op != m_op) {
            rebuild();
        } else {
            refreshValues();
        }
    });
    showNode(core::kNoNode);
}

QWidget* PropertiesPanel::editor(const std::string& attr) const {
    auto it = m_editors.find(attr);
    return it == m_editors.end() ? nullptr : it->second;
}

QString PropertiesPanel::typesText() const {
    return m_types->text();
}

void PropertiesPanel::showNode(core::NodeId id) {
    const core::Node* n = m_document->graph().findNode(id);
    if (id == m_node && n && n->op == m_op) {
        refreshValues(); // the same node again (a click on it): keep what is being typed
        return;
    }
    commitPending(); // a typed, unconfirmed value belongs to the node it was typed for
    m_node = id;
    rebuild();
}

void PropertiesPanel::commitPending() {
    for (const auto& [name, w] : m_editors)
        if (auto* edit = qobject_cast<QLineEdit*>(w); edit && edit->isModified())
            emit edit->editingFinished();
    if (m_name->isModified())
        emit m_name->editingFinished();
}

void PropertiesPanel::commit(const std::string& attr, const AttrValue& value) {
    const core::Node* n = m_document->graph().findNode(m_node);
    if (!n)
        return;
    auto it = n->attrs.find(attr);
    if (it != n->attrs.end() && it->second == value)
        return;
    m_document->applyEdits(
        {core::SetAttributeEdit{m_node, attr, value}},
        tr("Set %1.%2").arg(QString::fromStdString(n->name), QString::fromStdString(attr)));
}

QWidget* PropertiesPanel::pathRow(QLineEdit* edit, const std::string& attr, bool folder) {
    auto* row = new QWidget(m_formHost);
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    h->setSpacing(4);
    auto* browse = new QPushButton(tr("Browse…"), row);
    browse->setObjectName(QString::fromStdString("browse_" + attr));
    browse->setToolTip(folder ? tr("Choose the folder") : tr("Choose the file"));
    h->addWidget(edit, 1);
    h->addWidget(browse);
    connect(browse, &QPushButton::clicked, this, [this, edit, attr, folder] {
        const QString project = m_document->filePath();
        // Start at what the field names (relative to the project file), else where the user was.
        QString start = dialogFolder(project);
        if (!edit->text().isEmpty()) {
            const QString named = QDir(start).absoluteFilePath(edit->text());
            if (QFileInfo(named).exists())
                start = named;
        }
        const QString chosen =
            folder ? QFileDialog::getExistingDirectory(
                         this, tr("Choose %1").arg(QString::fromStdString(attr)), start)
                   : QFileDialog::getOpenFileName(
                         this, tr("Choose %1").arg(QString::fromStdString(attr)), start);
        if (chosen.isEmpty())
            return;
        rememberDialogPath(chosen);
        edit->setText(projectRelative(chosen, project));
        edit->setModified(false);
        commit(attr, AttrValue{edit->text().toStdString()});
    });
    return row;
}

QString PropertiesPanel::projectRelative(const QString& path, const QString& projectPath) {
    if (projectPath.isEmpty())
        return QDir::cleanPath(path);
    const QDir base = QFileInfo(projectPath).absoluteDir();
    const QString relative = base.relativeFilePath(path);
    // Beside or under the project: relative, so the project and its data move together.
    return relative.startsWith(QLatin1String(".."))
               ? QDir::cleanPath(QFileInfo(path).absoluteFilePath())
               : relative;
}

void PropertiesPanel::rebuild() {
    delete m_form;
    qDeleteAll(m_formHost->findChildren<QWidget*>(QString(), Qt::FindDirectChildrenOnly));
    m_editors.clear();
    m_form = new QFormLayout(m_formHost);
    m_form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    const core::Node* n = m_document->graph().findNode(m_node);
    const core::OpSchema* schema = n ? core::OpRegistry::builtin().find(n->op) : nullptr;
    m_op = n ? n->op : std::string();
    m_name->setVisible(n != nullptr);
    m_types->setVisible(n != nullptr);
    if (!n) {
        m_header->setText(tr("No selection"));
        m_description->setText(
            tr("Select a node to edit its attributes. Hover a wire to see why it is red."));
        return;
    }
    m_header->setText(QString::fromStdString(n->op));
    m_description->setText(schema ? QString::fromStdString(schema->description) : tr("Unknown op"));
    if (!schema)
        return;

    for (const core::AttrSpec& spec : schema->attrs) {
        const std::string name = spec.name;
        const QString tip =
            QString::fromStdString(spec.description + " — " + core::describeAttrDomain(spec));
        QWidget* w = nullptr; // the editor
        QWidget* field =
            nullptr; // what the form shows: the editor, or the editor and its Browse… button
        switch (spec.type) {
        case AttrType::Int: {
            auto* box = new QSpinBox(m_formHost);
            box->setRange(
                spec.min ? static_cast<int>(std::max<double>(*spec.min, INT_MIN)) : INT_MIN,
                spec.max ? static_cast<int>(std::min<double>(*spec.max, INT_MAX)) : INT_MAX);
            box->setKeyboardTracking(false);
            connect(box, &QSpinBox::valueChanged, this,
                    [this, name](int v) { commit(name, AttrValue{std::int64_t{v}}); });
            w = box;
            break;
        }
        case AttrType::Float: {
            auto* edit = new QLineEdit(m_formHost);
            auto* validator = new QDoubleValidator(edit);
            validator->setNotation(QDoubleValidator::ScientificNotation);
            edit->setValidator(validator);
            connect(edit, &QLineEdit::editingFinished, this, [this, name, edit] {
                edit->setModified(false);
                bool ok = false;
                const double v = edit->text().toDouble(&ok);
                if (ok)
                    commit(name, AttrValue{v});
            });
            w = edit;
            break;
        }
        case AttrType::Bool: {
            auto* box = new QCheckBox(m_formHost);
            connect(box, &QCheckBox::toggled, this,
                    [this, name](bool v) { commit(name, AttrValue{v}); });
            w = box;
            break;
        }
        case AttrType::Enum: {
            auto* combo = new QComboBox(m_formHost);
            for (const auto& c : spec.choices)
                combo->addItem(QString::fromStdString(c));
            connect(combo, &QComboBox::activated, this, [this, name, combo](int) {
                commit(name, AttrValue{combo->currentText().toStdString()});
            });
            w = combo;
            break;
        }
        case AttrType::String: {
            auto* edit = new QLineEdit(m_formHost);
            connect(edit, &QLineEdit::editingFinished, this, [this, name, edit] {
                edit->setModified(false);
                commit(name, AttrValue{edit->text().toStdString()});
            });
            w = edit;
            if (spec.path != core::AttrSpec::Path::None)
                field = pathRow(edit, name, spec.path == core::AttrSpec::Path::Folder);
            break;
        }
        case AttrType::IntList: {
            auto* row = new QWidget(m_formHost);
            auto* h = new QHBoxLayout(row);
            h->setContentsMargins(0, 0, 0, 0);
            h->setSpacing(4);
            std::vector<QSpinBox*> boxes;
            for (int i = 0; i < spec.listSize; ++i) {
                auto* box = new QSpinBox(row);
                box->setRange(spec.min ? static_cast<int>(*spec.min) : 0,
                              spec.max ? static_cast<int>(*spec.max) : 65536);
                box->setKeyboardTracking(false);
                h->addWidget(box);
                boxes.push_back(box);
            }
            for (QSpinBox* box : boxes) {
                connect(box, &QSpinBox::valueChanged, this, [this, name, boxes](int) {
                    std::vector<std::int64_t> v;
                    for (QSpinBox* b : boxes)
                        v.push_back(b->value());
                    commit(name, AttrValue{v});
                });
            }
            w = row;
            break;
        }
        }
        w->setToolTip(tip);
        w->setObjectName(QString::fromStdString("attr_" + name));
        auto* label = new QLabel(QString::fromStdString(name), m_formHost);
        label->setToolTip(tip);
        m_form->addRow(label, field ? field : w);
        m_editors[name] = w;
    }
    refreshValues();
}

void PropertiesPanel::refreshValues() {
    const core::Node* n = m_document->graph().findNode(m_node);
    const core::OpSchema* schema = n ? core::OpRegistry::builtin().find(n->op) : nullptr;
    if (!n || !schema)
        return;
    if (!m_name->hasFocus())
        m_name->setText(QString::fromStdString(n->name));
    for (const core::AttrSpec& spec : schema->attrs) {
        QWidget* w = editor(spec.name);
        if (!w)
            continue;
        auto it = n->attrs.find(spec.name);
        const AttrValue raw = it == n->attrs.end() ? spec.defaultValue : it->second;
        std::string why;
        const auto value = core::coerceAttribute(spec, raw, &why);
        // Restyling re-polishes the widget and its row: only when the verdict changes.
        const QString sheet = value ? QString() : QStringLiteral("border: 1px solid #ff5f5f;");
        if (w->styleSheet() != sheet)
            w->setStyleSheet(sheet);
        if (!value)
            w->setToolTip(QString::fromStdString(why));
        const QSignalBlocker block(w);
        if (auto* box = qobject_cast<QSpinBox*>(w); box && value) {
            box->setValue(static_cast<int>(std::get<std::int64_t>(*value)));
        } else if (auto* edit = qobject_cast<QLineEdit*>(w)) {
            if (!edit->hasFocus())
                edit->setText(value ? (spec.type == AttrType::Float
                                           ? QString::number(std::get<double>(*value), 'g', 8)
                                           : QString::fromStdString(std::get<std::string>(*value)))
                                    : QString::fromStdString(core::attrToString(raw)));
        } else if (auto* check = qobject_cast<QCheckBox*>(w); check && value) {
            check->setChecked(std::get<bool>(*value));
        } else if (auto* combo = qobject_cast<QComboBox*>(w); combo && value) {
            combo->setCurrentText(QString::fromStdString(std::get<std::string>(*value)));
        } else if (spec.type == AttrType::IntList && value) {
            const auto& list = std::get<std::vector<std::int64_t>>(*value);
            auto boxes = w->findChildren<QSpinBox*>();
            for (int i = 0; i < boxes.size() && i < static_cast<int>(list.size()); ++i) {
                const QSignalBlocker b(boxes[i]);
                boxes[i]->setValue(static_cast<int>(list[static_cast<std::size_t>(i)]));
            }
        }
    }
    // Input and output types: what the node receives and produces right now.
    const core::CheckResult& r = m_document->check();
    QStringList rows;
    for (const auto& port : schema->inputNames(*n)) {
        auto producer = m_document->graph().producerOf({m_node, port});
        auto t = producer ? r.typeOf(*producer) : std::nullopt;
        rows << QString("<tr><td>in&nbsp;<b>%1</b></td><td><code>%2</code></td></tr>")
                    .arg(QString::fromStdString(port),
                         t ? QString::fromStdString(t->toString()).toHtmlEscaped()
                           : tr("not connected"));
    }
    for (const auto& out : core::outputNames(*schema, *n)) {
        auto t = r.typeOf({m_node, out});
        rows << QString("<tr><td>out&nbsp;<b>%1</b></td><td><code>%2</code></td></tr>")
                    .arg(QString::fromStdString(out),
                         t ? QString::fromStdString(t->toString()).toHtmlEscaped()
                           : QStringLiteral("?"));
    }
    if (const core::DataProbe* probe = m_document->probeOf(m_node)) {
        // What the folders really hold, so value-range mistakes are visible here too.
        if (!probe->folderError.empty()) {
            rows << QString("<tr><td>data</td><td>%1</td></tr>")
                        .arg(QString::fromStdString(probe->folderError).toHtmlEscaped());
        } else {
            rows << tr("<tr><td>data</td><td>%L1 image/mask pairs</td></tr>")
                        .arg(static_cast<qulonglong>(probe->pairCount));
            rows << tr("<tr><td>mask values</td><td><code>%1</code></td></tr>")
                        .arg(QString::fromStdString(probe->maskValuesText()).toHtmlEscaped());
            if (!probe->unreadable.empty() || !probe->unpaired.empty())
                rows << tr("<tr><td>problems</td><td>%1 unreadable, %2 unpaired</td></tr>")
                            .arg(probe->unreadable.size())
                            .arg(probe->unpaired.size());
        }
    }
    const auto params = r.parameterCount(m_node);
    if (params > 0)
        rows << tr("<tr><td>parameters</td><td>%L1</td></tr>").arg(params);
    m_types->setText("<table cellspacing=4>" + rows.join("") + "</table>");
}

} // namespace segforge::ui
