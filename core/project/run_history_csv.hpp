#pragma once

// The training history as CSV: the one writer of `segforge-cli train`'s
// metrics.csv and of the app's CSV export (Training plots → Export → CSV
// Table). Both layouts are pinned by tests (train_cli_test, train_crash_cli_test;
// training_widgets_test) and are columns of the same records (RunHistory):
//
//   metrics.csv   epoch,train_loss,val_loss,val_dice,val_iou,seconds,val_<metric>…
//                 one row per epoch, epochs numbered from 1 as the CLI prints
//                 them; rows are appended as epochs finish, and a resumed run
//                 keeps exactly the rows of its finished epochs.
//   the export step,loss,loss_smoothed,learning_rate,epoch,epoch_train_loss,val_loss,val_<metric>…
//                 one row per step, an epoch on the row of its last step (a row
//                 of its own when no step has its number); epochs from 0.
//
// Numbers are %.Ng (N per column); NaN is an empty cell, ±∞ "inf" / "-inf".

#include "project/run_history.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace segforge::core {

/// `v` as a CSV cell: %.{digits}g; "" for NaN, "inf" / "-inf" for infinities.
std::string csvNumber(double v, int digits);

class RunHistoryCsv {
public:
    /// One epoch column.
    struct Column {
        enum class Kind { EpochNumber, EpochIndex, TrainLoss, ValLoss, Metric, Seconds };
        Kind kind;
        std::string header;
        std::string metric = {}; ///< Kind::Metric: the metric's name in RunHistory::Epoch::metrics
        int digits = 6;
    };

    /// metrics.csv: `dice` and `iou` name the metrics of the val_dice and
    /// val_iou columns ("" leaves the column empty), `others` the metrics after `seconds`.
    static RunHistoryCsv runFolder(const std::string& dice, const std::string& iou,
                                   const std::vector<std::string>& others);
    /// The app's export: a column for every metric some epoch of `history` holds, by name.
    static RunHistoryCsv stepTable(const RunHistory& history);

    std::string header() const;
    /// The row of one epoch of an epochs-only table (metrics.csv); `seconds` its wall time.
    std::string epochRow(const RunHistory::Epoch& epoch, double seconds = std::nan("")) const;
    /// The whole table, header and rows; `smoothedLoss` is the loss_smoothed of each step.
    std::string table(const RunHistory& history, const std::vector<double>& smoothedLoss) const;

private:
    RunHistoryCsv(std::vector<Column> epochColumns, bool steps)
        : m_epochColumns(std::move(epochColumns))
        , m_steps(steps) {}
    std::string epochCells(const RunHistory::Epoch& epoch, double seconds) const;

    std::vector<Column> m_epochColumns;
    bool m_steps; ///< step,loss,loss_smoothed,learning_rate before the epoch columns
};

} // namespace segforge::core
