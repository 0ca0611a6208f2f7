#include "project/run_history_csv.hpp"

#include <cstdio>
#include <set>

namespace segforge::core {

std::string csvNumber(double v, int digits) {
    if (!std::isfinite(v))
        return std::isnan(v) ? "" : (v > 0 ? "inf" : "-inf");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    return buf;
}

RunHistoryCsv RunHistoryCsv::runFolder(const std::string& dice, const std::string& iou,
                                       const std::vector<std::string>& others) {
    using K = Column::Kind;
    std::vector<Column> columns = {{K::EpochNumber, "epoch"},   {K::TrainLoss, "train_loss"},
                                   {K::ValLoss, "val_loss"},    {K::Metric, "val_dice", dice},
                                   {K::Metric, "val_iou", iou}, {K::Seconds, "seconds", "", 4}};
    for (const auto& name : others)
        columns.push_back({K::Metric, "val_" + name, name});
    return RunHistoryCsv(std::move(columns), false);
}

RunHistoryCsv RunHistoryCsv::stepTable(const RunHistory& history) {
    using K = Column::Kind;
    constexpr int kDigits = 10;
    std::vector<Column> columns = {{K::EpochIndex, "epoch", "", kDigits},
                                   {K::TrainLoss, "epoch_train_loss", "", kDigits},
                                   {K::ValLoss, "val_loss", "", kDigits}};
    std::set<std::string> metrics;
    for (const auto& e : history.epochs)
        for (const auto& [name, value] : e.metrics)
            metrics.insert(name);
    for (const auto& name : metrics)
        columns.push_back({K::Metric, "val_" + name, name, kDigits});
    return RunHistoryCsv(std::move(columns), true);
}

std::string RunHistoryCsv::header() const {
    std::string h = m_steps ? "step,loss,loss_smoothed,learning_rate" : "";
    for (const Column& c : m_epochColumns)
        h += (h.empty() ? "" : ",") + c.header;
    return h;
}

std::string RunHistoryCsv::epochCells(const RunHistory::Epoch& e, double seconds) const {
    std::string row;
    bool first = true;
    for (const Column& c : m_epochColumns) {
        if (!first)
            row += ",";
        first = false;
        switch (c.kind) {
        case Column::Kind::EpochNumber:
            row += std::to_string(e.epoch + 1);
            break;
        case Column::Kind::EpochIndex:
            row += std::to_string(e.epoch);
            break;
        case Column::Kind::TrainLoss:
            row += csvNumber(e.trainLoss, c.digits);
            break;
        case Column::Kind::ValLoss:
            row += csvNumber(e.valLoss, c.digits);
            break;
        case Column::Kind::Seconds:
            row += csvNumber(seconds, c.digits);
            break;
        case Column::Kind::Metric:
            if (auto it = e.metrics.find(c.metric); it != e.metrics.end())
                row += csvNumber(it->second, c.digits);
            break;
        }
    }
    return row;
}

std::string RunHistoryCsv::epochRow(const RunHistory::Epoch& epoch, double seconds) const {
    return epochCells(epoch, seconds);
}

std::string RunHistoryCsv::table(const RunHistory& history,
                                 const std::vector<double>& smoothedLoss) const {
    std::string out = header() + "\n";
    if (!m_steps) {
        for (const auto& e : history.epochs)
            out += epochCells(e, std::nan("")) + "\n";
        return out;
    }
    constexpr int kDigits = 10;
    const std::string noEpoch(m_epochColumns.size(), ',');
    auto epochOnItsOwn = [&](const RunHistory::Epoch& e) {
        out += std::to_string(e.step) + ",,,," + epochCells(e, std::nan("")) + "\n";
    };
    // Steps and epochs both arrive in step order; merge them, an epoch on the row of its last step.
    std::size_t e = 0;
    const auto& epochs = history.epochs;
    for (std::size_t i = 0; i < history.steps.size(); ++i) {
        const RunHistory::Step& s = history.steps[i];
        while (e < epochs.size() && epochs[e].step < s.step)
            epochOnItsOwn(epochs[e++]);
        const double smoothed = i < smoothedLoss.size() ? smoothedLoss[i] : std::nan("");
        out += std::to_string(s.step) + "," + csvNumber(s.loss, kDigits) + "," +
               csvNumber(smoothed, kDigits) + "," + csvNumber(s.learningRate, kDigits);
        if (e < epochs.size() && epochs[e].step == s.step)
            out += "," + epochCells(epochs[e++], std::nan(""));
        else
            out += noEpoch;
        out += "\n";
    }
    for (; e < epochs.size(); ++e)
        epochOnItsOwn(epochs[e]);
    return out;
}

} // namespace segforge::core
