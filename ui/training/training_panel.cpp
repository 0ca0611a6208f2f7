#include "training/training_panel.hpp"

#include "document/document.hpp"
#include "engine/training_setup.hpp"
#include "ops/op_helpers.hpp"
#include "util/available_cores.hpp"

#include <QAction>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QSpinBox>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>

namespace segforge::ui {

namespace {

QString number(double v, int digits = 4) {
    if (std::isnan(v))
        return QStringLiteral("—");
    return QString::number(v, 'g', digits);
}

const core::Node* datasetNode(const core::Graph& graph) {
    std::string error;
    return core::findDatasetNode(graph, error);
}

} // namespace

TrainingPanel::TrainingPanel(Document* document, TrainingController* controller, QWidget* parent)
    : QWidget(parent)
    , m_document(document)
    , m_controller(controller) {
    auto action = [this](const QString& text, QKeySequence key, QStyle::StandardPixmap icon,
                         const QString& tip) {
        auto* a = new QAction(style()->standardIcon(icon), text, this);
        a->setShortcut(key);
        a->setShortcutContext(Qt::WindowShortcut);
        a->setToolTip(
            QStringLiteral("%1 (%2)\n%3").arg(text, key.toString(QKeySequence::NativeText), tip));
        return a;
    };
    m_train = action(tr("Train"), Qt::Key_F5, QStyle::SP_MediaPlay,
                     tr("Train the graph on its dataset; when paused, resume."));
    m_pause = action(tr("Pause"), Qt::Key_F6, QStyle::SP_MediaPause,
                     tr("Pause before the next node; the tensors can then be inspected."));
    m_stop =
        action(tr("Stop"), QKeySequence(Qt::SHIFT | Qt::Key_F5), QStyle::SP_MediaStop,
               tr("Stop after the current node; the weights of the last finished step are kept."));
    m_stepBatch = action(tr("Step Batch"), Qt::Key_F10, QStyle::SP_MediaSeekForward,
                         tr("Run exactly one more training batch, then pause."));
    m_stepNode = action(tr("Step Node"), Qt::Key_F11, QStyle::SP_MediaSkipForward,
                        tr("Run exactly one node (forward, then backward), then pause."));
    m_runToBreak =
        action(tr("Run to Breakpoint"), QKeySequence(Qt::CTRL | Qt::Key_F5),
               QStyle::SP_ArrowForward, tr("Run until a node with a breakpoint (F9) has run."));
    m_reset = new QAction(tr("Reset Weights"), this);
    m_reset->setToolTip(tr("Forget the trained weights: the next run starts from the seed."));
    m_gradientView = new QAction(tr("Gradient View"), this);
    m_gradientView->setCheckable(true);
    m_gradientView->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_G));
    m_gradientView->setToolTip(
        tr("Colour and thicken wires by the norm of their gradient after each step "
           "(Ctrl+G): thin blue wires carry vanishing gradients, thick orange ones large."));

    connect(m_train, &QAction::triggered, this, [this] {
        if (m_controller->state() == TrainingController::State::Paused)
            m_controller->resume();
        else
            startTraining(false);
    });
    connect(m_runToBreak, &QAction::triggered, this, [this] {
        if (m_controller->state() == TrainingController::State::Paused)
            m_controller->resume();
        else
            startTraining(false);
    });
    connect(m_pause, &QAction::triggered, m_controller, &TrainingController::pause);
    connect(m_stop, &QAction::triggered, m_controller, &TrainingController::stop);
    connect(m_stepBatch, &QAction::triggered, this, [this] {
        if (m_controller->state() == TrainingController::State::Idle)
            startTraining(true);
        m_controller->stepBatch();
    });
    connect(m_stepNode, &QAction::triggered, m_controller, &TrainingController::stepNode);
    connect(m_reset, &QAction::triggered, this, [this] {
        m_controller->resetWeights();
        emit statusText(tr("Weights forgotten: the next run starts from the seed."));
        updateActions();
    });
    connect(m_gradientView, &QAction::toggled, m_controller,
            &TrainingController::setGradientTracking);

    buildForm();
    loadSettings();
    updateActions();
    updateDatasetSummary();

    connect(m_document, &Document::trainingChanged, this, &TrainingPanel::loadSettings);
    connect(m_document, &Document::projectReplaced, this, &TrainingPanel::loadSettings);
    connect(m_document, &Document::changed, this, [this] {
        loadSettings();
        updateDatasetSummary();
    });
    connect(m_controller, &TrainingController::stateChanged, this, &TrainingPanel::updateActions);
    connect(m_controller, &TrainingController::runStarted, this,
            [this](int epochs, qint64 batches, qint64 first) {
                m_epochsInRun = epochs;
                m_batchesPerEpoch = batches;
                m_firstStep = first;
                m_progress->setRange(0, static_cast<int>(std::max<qint64>(1, epochs * batches)));
                m_progress->setValue(static_cast<int>(first));
                m_dataset->setText(m_controller->datasetSummary());
            });
    connect(m_controller, &TrainingController::batchDone, this, &TrainingPanel::onBatch);
    connect(m_controller, &TrainingController::epochDone, this, &TrainingPanel::onEpoch);
    connect(m_controller, &TrainingController::runEnded, this,
            [this](core::TrainEventKind, const QString& message) {
                m_progressLabel->setText(message);
                emit statusText(message);
            });
    // A reopened project with saved weights: the dock says where its run stands.
    connect(
        m_controller, &TrainingController::weightsRestored, this,
        [this](bool ok, bool, const QString&) {
            if (!ok)
                return;
            const qint64 step = m_controller->step();
            const qint64 total = m_controller->runEpochs() * m_controller->runBatchesPerEpoch();
            m_progress->setRange(0, static_cast<int>(std::max<qint64>(1, std::max(total, step))));
            m_progress->setValue(static_cast<int>(step));
            m_progressLabel->setText(
                m_controller->canContinueRun()
                    ? tr("Saved weights of step %1 loaded. Train (F5) continues the run.").arg(step)
                    : tr("Saved weights of step %1 loaded. Train (F5) starts a new run from them.")
                          .arg(step));
            if (!m_controller->datasetSummary().isEmpty())
                m_dataset->setText(m_controller->datasetSummary());
        });
}

void TrainingPanel::buildForm() {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->setSpacing(4);
    m_dataset = new QLabel(this);
    m_dataset->setWordWrap(true);
    m_dataset->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_dataset);

    // Everything fits a 1280×720 Train workspace without scrolling: the run
    // controls in two rows of three, the settings in two columns with short
    // labels (the full words are in the tooltips).
    auto* settings = new QGridLayout();
    settings->setHorizontalSpacing(6);
    settings->setVerticalSpacing(3);
    QWidget* box = this;
    m_epochs = new QSpinBox(box);
    m_epochs->setRange(1, 100000);
    m_epochs->setToolTip(tr("Epochs: passes over the training images"));
    m_batch = new QSpinBox(box);
    m_batch->setRange(1, 4096);
    m_batch->setToolTip(tr("Batch size: the Dataset node's batch_size"));
    m_lr = new QDoubleSpinBox(box);
    m_lr->setDecimals(6);
    m_lr->setRange(1e-6, 10.0);
    m_lr->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
    m_lr->setToolTip(tr("Learning rate"));
    m_optimizer = new QComboBox(box);
    m_optimizer->addItems({"adam", "adamw", "sgd"});
    m_optimizer->setToolTip(tr("Optimizer"));
    m_schedule = new QComboBox(box);
    m_schedule->addItems({"constant", "step", "cosine"});
    m_schedule->setToolTip(tr("Learning-rate schedule"));
    m_seed = new QSpinBox(box);
    m_seed->setRange(0, 1'000'000'000);
    m_seed->setToolTip(
        tr("Seed of the initial weights and the shuffling: the same seed trains the same way"));
    m_threads = new QSpinBox(box);
    m_threads->setRange(0, 256);
    m_threads->setSpecialValueText(tr("all"));
    m_threads->setToolTip(tr("Threads: CPU threads for training (all: one per core this process "
                             "may use, here %1; the second thread of a core and CPUs beyond a "
                             "container's limit do not count)")
                              .arg(core::availableCores()));
    m_split = new QDoubleSpinBox(box);
    m_split->setRange(0.0, 0.9);
    m_split->setSingleStep(0.05);
    m_split->setToolTip(tr("Validation split: the share of the images held out to validate on"));
    const std::pair<QString, QWidget*> fields[] = {
        {tr("Epochs"), m_epochs},    {tr("Batch"), m_batch},     {tr("LR"), m_lr},
        {tr("Optim."), m_optimizer}, {tr("Sched."), m_schedule}, {tr("Seed"), m_seed},
        {tr("Threads"), m_threads},  {tr("Val."), m_split}};
    int f = 0;
    for (const auto& [name, field] : fields) {
        auto* label = new QLabel(name, this);
        label->setToolTip(field->toolTip());
        label->setBuddy(field);
        field->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
        field->setMinimumWidth(40); // a wide range must not set the dock's width
        settings->addWidget(label, f / 2, (f % 2) * 2);
        settings->addWidget(field, f / 2, (f % 2) * 2 + 1);
        ++f;
    }
    settings->setColumnStretch(1, 1);
    settings->setColumnStretch(3, 1);

    auto* buttons = new QGridLayout();
    buttons->setSpacing(2);
    int i = 0;
    for (QAction* a : {m_train, m_pause, m_stop, m_stepBatch, m_stepNode, m_runToBreak}) {
        auto* b = new QToolButton(this);
        b->setObjectName(QStringLiteral("run-button-%1").arg(i));
        b->setDefaultAction(a);
        b->setAutoRaise(true);
        b->setIconSize({16, 16});
        b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        b->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
        if (a == m_runToBreak) {
            // Three to a row fit a 1280×720 dock with a shorter word; the
            // action's full name stays in the menu, the toolbar and the tooltip.
            // (changed reaches the button's own update first, so this wins.)
            auto shorten = [b] { b->setText(tr("To Breakpoint")); };
            shorten();
            connect(a, &QAction::changed, b, shorten);
        }
        buttons->addWidget(b, i / 3, i % 3); // run / pause / stop, then the three ways to step
        ++i;
    }
    layout->addLayout(buttons);

    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    m_progress->setFormat(tr("step %v / %m"));
    layout->addWidget(m_progress);
    m_progressLabel = new QLabel(
        tr("Not trained yet. Train (F5), or Step Node (F11) to walk through one step."), this);
    m_progressLabel->setWordWrap(true);
    layout->addWidget(m_progressLabel);
    m_lastEpoch = new QLabel(this);
    m_lastEpoch->setWordWrap(true);
    m_lastEpoch->hide(); // until an epoch ends: no empty line in a short dock
    layout->addWidget(m_lastEpoch);
    layout->addLayout(settings);
    layout->addStretch();

    auto changed = [this] { storeSettings(); };
    for (QSpinBox* s : {m_epochs, m_seed, m_threads})
        connect(s, &QSpinBox::valueChanged, this, changed);
    for (QDoubleSpinBox* s : {m_lr, m_split})
        connect(s, &QDoubleSpinBox::valueChanged, this, changed);
    for (QComboBox* c : {m_optimizer, m_schedule})
        connect(c, &QComboBox::currentTextChanged, this, changed);
    connect(m_batch, &QSpinBox::valueChanged, this, [this](int value) {
        if (m_loading)
            return;
        const core::Node* dataset = datasetNode(m_document->graph());
        if (!dataset)
            return;
        QString error;
        core::EditScript edit{core::SetAttributeEdit{dataset->id, "batch_size",
                                                     core::AttrValue(std::int64_t{value})}};
        if (!m_document->applyEdits(edit, tr("Set batch size to %1").arg(value), &error))
            loadSettings(); // refused (training runs): show the real value again
    });
}

void TrainingPanel::loadSettings() {
    m_loading = true;
    const core::TrainingSettings& t = m_document->project().training;
    m_epochs->setValue(static_cast<int>(t.epochs));
    m_lr->setValue(t.learningRate);
    m_optimizer->setCurrentText(QString::fromStdString(t.optimizer));
    m_schedule->setCurrentText(QString::fromStdString(t.schedule));
    m_seed->setValue(static_cast<int>(t.seed));
    m_threads->setValue(static_cast<int>(t.threads));
    m_split->setValue(t.validationSplit);
    const core::Node* dataset = datasetNode(m_document->graph());
    m_batch->setEnabled(dataset != nullptr && !m_controller->trainingActive());
    if (dataset) {
        const auto batch = core::ops::resolvedAttr(*dataset, "batch_size");
        if (batch)
            if (const auto* v = std::get_if<std::int64_t>(&*batch))
                m_batch->setValue(static_cast<int>(*v));
    }
    m_loading = false;
}

void TrainingPanel::storeSettings() {
    if (m_loading)
        return;
    core::TrainingSettings t = m_document->project().training;
    t.epochs = m_epochs->value();
    t.learningRate = m_lr->value();
    t.optimizer = m_optimizer->currentText().toStdString();
    t.schedule = m_schedule->currentText().toStdString();
    t.seed = m_seed->value();
    t.threads = m_threads->value();
    t.validationSplit = m_split->value();
    m_document->setTraining(t);
}

void TrainingPanel::updateDatasetSummary() {
    if (m_controller->trainingActive())
        return;
    const QString lastRun = m_controller->datasetSummary().isEmpty()
                                ? QString()
                                : tr("<br>Last run: %1").arg(m_controller->datasetSummary());
    const core::Node* dataset = datasetNode(m_document->graph());
    if (!dataset) {
        m_dataset->setText(
            tr("<b>No Dataset node.</b> Add one (Input category) and point it at a folder of "
               "images and a folder of masks.") +
            lastRun);
        return;
    }
    const core::DataProbe* probe = m_document->probeOf(dataset->id);
    if (!probe) {
        m_dataset->setText(
            tr("<b>%1</b>: no folders set.").arg(QString::fromStdString(dataset->name)) + lastRun);
        return;
    }
    if (!probe->folderError.empty()) {
        m_dataset->setText(tr("<b>%1</b>: %2")
                               .arg(QString::fromStdString(dataset->name),
                                    QString::fromStdString(probe->folderError).toHtmlEscaped()) +
                           lastRun);
        return;
    }
    m_dataset->setText(tr("<b>%1</b>: %2 image/mask pairs; mask values %3")
                           .arg(QString::fromStdString(dataset->name))
                           .arg(probe->pairCount)
                           .arg(QString::fromStdString(probe->maskValuesText()).toHtmlEscaped()) +
                       lastRun);
}

void TrainingPanel::updateActions() {
    using State = TrainingController::State;
    const State s = m_controller->state();
    const bool idle = s == State::Idle;
    const bool paused = s == State::Paused;
    m_train->setEnabled(idle || paused);
    m_train->setText(paused ? tr("Resume") : tr("Train"));
    m_pause->setEnabled(s == State::Running);
    m_stop->setEnabled(s == State::Running || paused);
    m_stepBatch->setEnabled(idle || paused);
    m_stepNode->setEnabled(idle || paused);
    m_runToBreak->setEnabled((idle || paused) && !m_controller->breakpoints().empty());
    m_reset->setEnabled(idle);
    const bool editable = !m_controller->trainingActive();
    m_batch->setEnabled(editable && datasetNode(m_document->graph()) != nullptr);
    if (!idle)
        return;
    updateDatasetSummary();
}

void TrainingPanel::startTraining(bool paused) {
    QString error;
    if (!m_controller->start(paused, &error)) {
        auto* box =
            new QMessageBox(QMessageBox::Warning, tr("Cannot train"), error, QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open(); // never blocks the event loop
        emit statusText(error.section('\n', 0, 0));
    }
}

void TrainingPanel::onBatch(const core::TrainEvent& e) {
    m_progress->setValue(static_cast<int>(std::min<qint64>(e.step, m_progress->maximum())));
    const double done = static_cast<double>(e.step - m_firstStep);
    const double total = static_cast<double>(e.epochs) * static_cast<double>(e.batches);
    const double eta =
        done > 0 ? e.elapsedSeconds / done * (total - static_cast<double>(e.step)) : NAN;
    m_progressText = tr("Epoch %1/%2 · batch %3/%4 · loss %5 · %6 s/step · ETA %7")
                         .arg(e.epoch + 1)
                         .arg(e.epochs)
                         .arg(e.batch + 1)
                         .arg(e.batches)
                         .arg(number(e.trainLoss))
                         .arg(e.msPerStep / 1000.0, 0, 'f', 2)
                         .arg(QString::fromStdString(core::formatDuration(eta)));
    m_progressLabel->setText(m_progressText);
    emit statusText(m_progressText);
}

void TrainingPanel::onEpoch(const core::TrainEvent& e) {
    QString metrics;
    for (const auto& [name, value] : e.valMetrics)
        metrics += QStringLiteral(" · %1 %2").arg(QString::fromStdString(name), number(value));
    m_lastEpoch->show();
    m_lastEpoch->setText(tr("Epoch %1: train loss %2 · val loss %3%4 (%5 s)")
                             .arg(e.epoch + 1)
                             .arg(number(e.trainLoss))
                             .arg(number(e.valLoss))
                             .arg(metrics)
                             .arg(e.epochSeconds, 0, 'f', 1));
}

QString TrainingPanel::progressText() const {
    return m_progressText;
}

void TrainingPanel::showRunState(const QString& text) {
    m_progressLabel->setText(text);
}

QString TrainingPanel::runStateText() const {
    return m_progressLabel->text();
}

int TrainingPanel::progressValue() const {
    return m_progress->value();
}

} // namespace segforge::ui
