#pragma once

#include "engine/train_event.hpp"
#include "training/training_controller.hpp"

#include <QWidget>

class QAction;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QSpinBox;
class QCheckBox;

namespace segforge::ui {

class Document;

/// The Training dock: what the data is, the run's settings (stored in the
/// project, undoable), the run controls and the progress. The controls are
/// QActions so the window puts the same ones in its Train menu and toolbar.
class TrainingPanel : public QWidget {
    Q_OBJECT
public:
    TrainingPanel(Document* document, TrainingController* controller, QWidget* parent = nullptr);

    QAction* trainAction() const { return m_train; }         ///< F5: train, or resume when paused
    QAction* pauseAction() const { return m_pause; }         ///< F6
    QAction* stopAction() const { return m_stop; }           ///< Shift+F5
    QAction* stepBatchAction() const { return m_stepBatch; } ///< F10
    QAction* stepNodeAction() const { return m_stepNode; }   ///< F11
    QAction* runToBreakpointAction() const { return m_runToBreak; } ///< Ctrl+F5
    QAction* resetWeightsAction() const { return m_reset; }
    QAction* gradientViewAction() const { return m_gradientView; } ///< checkable

    /// "Epoch 2/8 · batch 5/20 · loss 0.2310 · 2.9 s/step · ETA 1m05s"
    QString progressText() const;
    /// Where the run stands when no batch reports it (paused at a node), in the
    /// words the status bar uses: the dock and the status bar never disagree.
    void showRunState(const QString& text);
    /// What the dock says about the run now.
    QString runStateText() const;
    int progressValue() const;

signals:
    void statusText(const QString& text);

private:
    void buildForm();
    void loadSettings();
    void storeSettings();
    void updateActions();
    void updateDatasetSummary();
    void onBatch(const core::TrainEvent& e);
    void onEpoch(const core::TrainEvent& e);
    void startTraining(bool paused);

    Document* m_document;
    TrainingController* m_controller;
    bool m_loading = false;

    QLabel* m_dataset;
    QSpinBox* m_epochs;
    QSpinBox* m_batch;
    QDoubleSpinBox* m_lr;
    QComboBox* m_optimizer;
    QComboBox* m_schedule;
    QSpinBox* m_seed;
    QSpinBox* m_threads;
    QDoubleSpinBox* m_split;
    QProgressBar* m_progress;
    QLabel* m_progressLabel;
    QLabel* m_lastEpoch;

    QAction* m_train;
    QAction* m_pause;
    QAction* m_stop;
    QAction* m_stepBatch;
    QAction* m_stepNode;
    QAction* m_runToBreak;
    QAction* m_reset;
    QAction* m_gradientView;

    int m_epochsInRun = 0;
    qint64 m_batchesPerEpoch = 0;
    qint64 m_firstStep = 0;
    QString m_progressText;
};

} // namespace segforge::ui
