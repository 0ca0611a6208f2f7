#include "project/run_history.hpp"

#include "util/bounded_json.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace segforge::core {

using nlohmann::json;

namespace {

json number(double v) {
    return std::isfinite(v) ? json(v) : json(nullptr);
}

std::optional<double> readNumber(const json& v) {
    if (v.is_null())
        return std::nan("");
    if (!v.is_number())
        return std::nullopt;
    return v.get<double>();
}

} // namespace

void RunHistory::truncateAfter(std::int64_t step) {
    steps.erase(
        std::remove_if(steps.begin(), steps.end(), [step](const Step& s) { return s.step > step; }),
        steps.end());
    epochs.erase(std::remove_if(epochs.begin(), epochs.end(),
                                [step](const Epoch& e) { return e.step > step; }),
                 epochs.end());
}

std::string runHistoryToJson(const RunHistory& history) {
    json steps = json::array(), loss = json::array(), lr = json::array(), epochs = json::array();
    for (const auto& s : history.steps) {
        steps.push_back(s.step);
        loss.push_back(number(s.loss));
        lr.push_back(number(s.learningRate));
    }
    for (const auto& e : history.epochs) {
        json metrics = json::object();
        for (const auto& [name, value] : e.metrics)
            metrics[name] = number(value);
        epochs.push_back({{"epoch", e.epoch},
                          {"step", e.step},
                          {"train_loss", number(e.trainLoss)},
                          {"val_loss", number(e.valLoss)},
                          {"metrics", metrics}});
    }
    return json{{"steps", steps}, {"loss", loss}, {"lr", lr}, {"epochs", epochs}}.dump();
}

std::optional<RunHistory> runHistoryFromJson(const std::string& text, std::string& error) {
    BoundedJson parsed = parseBoundedJson(text);
    if (!parsed.ok()) {
        error = "history: " + parsed.error;
        return std::nullopt;
    }
    const json& doc = parsed.value;
    auto fail = [&](const std::string& what) {
        error = "history: " + what;
        return std::nullopt;
    };
    if (!doc.is_object())
        return fail("expected an object");
    for (const char* key : {"steps", "loss", "lr", "epochs"})
        if (!doc.contains(key) || !doc[key].is_array())
            return fail(std::string("'") + key + "' must be a list");
    const json& steps = doc["steps"];
    if (doc["loss"].size() != steps.size() || doc["lr"].size() != steps.size())
        return fail("'steps', 'loss' and 'lr' must have the same length");
    RunHistory h;
    h.steps.reserve(steps.size());
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto loss = readNumber(doc["loss"][i]);
        const auto lr = readNumber(doc["lr"][i]);
        if (!steps[i].is_number_integer() || !loss || !lr)
            return fail("step " + std::to_string(i) + " is not a number");
        h.steps.push_back({steps[i].get<std::int64_t>(), *loss, *lr});
    }
    for (const json& e : doc["epochs"]) {
        if (!e.is_object() || !e.contains("epoch") || !e["epoch"].is_number_integer() ||
            !e.contains("step") || !e["step"].is_number_integer())
            return fail("an epoch needs whole 'epoch' and 'step'");
        RunHistory::Epoch epoch;
        const auto epochNumber = e["epoch"].get<std::int64_t>();
        if (epochNumber < 0 || epochNumber > 1'000'000)
            return fail("epoch " + std::to_string(epochNumber) + " is out of range");
        epoch.epoch = static_cast<int>(epochNumber);
        epoch.step = e["step"].get<std::int64_t>();
        const auto train = readNumber(e.value("train_loss", json(nullptr)));
        const auto val = readNumber(e.value("val_loss", json(nullptr)));
        if (!train || !val)
            return fail("epoch " + std::to_string(epoch.epoch) + ": a loss is not a number");
        epoch.trainLoss = *train;
        epoch.valLoss = *val;
        if (e.contains("metrics")) {
            if (!e["metrics"].is_object())
                return fail("epoch " + std::to_string(epoch.epoch) +
                            ": 'metrics' must be an object");
            for (const auto& [name, value] : e["metrics"].items()) {
                const auto v = readNumber(value);
                if (!v)
                    return fail("epoch " + std::to_string(epoch.epoch) + ": metric '" + name +
                                "' is not a number");
                epoch.metrics[name] = *v;
            }
        }
        h.epochs.push_back(std::move(epoch));
    }
    return h;
}

} // namespace segforge::core
