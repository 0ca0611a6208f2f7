// The one writer of the training history as CSV: metrics.csv (segforge-cli
// train) and the app's CSV export are columns of the same RunHistory records.

#include "project/run_history_csv.hpp"

#include <gtest/gtest.h>
#include <limits>

using namespace segforge::core;

namespace {

RunHistory history() {
    RunHistory h;
    for (int s = 1; s <= 4; ++s)
        h.steps.push_back({s, s * 0.5, 0.01});
    h.epochs.push_back({0, 2, 0.75, 0.9, {{"dice", 0.25}}});
    h.epochs.push_back({1, 4, 1.75, 0.8, {{"dice", 0.5}, {"iou", 0.125}}});
    return h;
}

} // namespace

TEST(RunHistoryCsv, NumbersHaveOneRule) {
    EXPECT_EQ(csvNumber(0.123456789, 6), "0.123457");
    EXPECT_EQ(csvNumber(0.123456789, 10), "0.123456789");
    EXPECT_EQ(csvNumber(2.5, 4), "2.5");
    EXPECT_EQ(csvNumber(std::numeric_limits<double>::quiet_NaN(), 6), "");
    EXPECT_EQ(csvNumber(std::numeric_limits<double>::infinity(), 6), "inf");
    EXPECT_EQ(csvNumber(-std::numeric_limits<double>::infinity(), 10), "-inf");
}

TEST(RunHistoryCsv, MetricsCsvHasOneRowPerEpochNumberedFromOne) {
    const RunHistoryCsv csv = RunHistoryCsv::runFolder("dice", "", {"acc"});
    EXPECT_EQ(csv.header(), "epoch,train_loss,val_loss,val_dice,val_iou,seconds,val_acc");
    RunHistory::Epoch e{0,
                        2,
                        0.123456789,
                        std::numeric_limits<double>::quiet_NaN(),
                        {{"dice", 0.5}, {"acc", 0.75}}};
    EXPECT_EQ(csv.epochRow(e, 1.234567), "1,0.123457,,0.5,,1.235,0.75");
    e.epoch = 6;
    e.metrics.erase("acc");
    EXPECT_EQ(csv.epochRow(e, 2), "7,0.123457,,0.5,,2,");
    EXPECT_EQ(csv.table(history(), {}), "epoch,train_loss,val_loss,val_dice,val_iou,seconds,val_"
                                        "acc\n1,0.75,0.9,0.25,,,\n2,1.75,0.8,0.5,,,\n");
}

TEST(RunHistoryCsv, ExportMergesStepsAndEpochs) {
    RunHistory h = history();
    h.epochs.insert(h.epochs.begin(),
                    RunHistory::Epoch{0, 0, 1.5, 1.25, {}}); // before any step: a row of its own
    const RunHistoryCsv csv = RunHistoryCsv::stepTable(h);
    EXPECT_EQ(
        csv.header(),
        "step,loss,loss_smoothed,learning_rate,epoch,epoch_train_loss,val_loss,val_dice,val_iou");
    EXPECT_EQ(csv.table(h, {0.5, 0.75, 1, 1.25}),
              "step,loss,loss_smoothed,learning_rate,epoch,epoch_train_loss,"
              "val_loss,val_dice,val_iou\n"
              "0,,,,0,1.5,1.25,,\n"
              "1,0.5,0.5,0.01,,,,,\n"
              "2,1,0.75,0.01,0,0.75,0.9,0.25,\n"
              "3,1.5,1,0.01,,,,,\n"
              "4,2,1.25,0.01,1,1.75,0.8,0.5,0.125\n");
}
