#pragma once

// The importer behind importKerasModel(), private to core/keras. One
// Importer turns one Keras document into a graph; its parts live in one file
// each: the driver and model dispatch (keras_import.cpp), Functional models
// and the resolution of their layer calls (keras_functional_import.cpp),
// Sequential models (keras_sequential_import.cpp), and the graph nodes made
// from layers (keras_node_import.cpp).

#include "graph/graph.hpp"
#include "keras/keras_config.hpp"
#include "keras/keras_import.hpp"
#include "keras/keras_inbound.hpp"

#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace segforge::core::interop {

inline constexpr int kMaxModelNesting = 16;
inline constexpr int kMaxResolveDepth = 4000; ///< longest chain of layers resolved recursively
inline constexpr std::int64_t kDefaultImageSize = 128;

using Outputs = std::vector<PortRef>;

/// One layer of a Functional config, with the inputs of each of its calls.
struct LayerEntry {
    const nlohmann::json* layer = nullptr;
    std::string className;
    std::string name;
    std::string path;
    std::vector<std::vector<KerasTensorRef>> calls;
    /// The node index Keras gives the first call: 1 for a nested model, whose
    /// node 0 is its own internal node, else 0.
    std::int64_t firstCall = 0;
    bool keras3 = false; ///< its calls are written as {"args", "kwargs"}
    int outputsUsed = 1; ///< 1 + the highest output index the model reads from it
};

/// The state of one Functional model while its calls are resolved.
struct FunctionalScope {
    std::string path;
    std::vector<LayerEntry> layers;
    std::map<std::string, std::size_t> byName;
    std::vector<KerasTensorRef> inputs; ///< input_layers
    const Outputs* bound = nullptr;     ///< outer tensors feeding a nested model's inputs
    int nesting = 0;
    std::map<std::pair<std::size_t, std::int64_t>, Outputs> done;
    std::vector<std::size_t> stack; ///< layers being resolved, for cycle messages
};

/// A layer's name: its own "name", else its config's ("" if neither).
std::string layerNameOf(const nlohmann::json& layer);

class Importer {
public:
    explicit Importer(const std::string& file)
        : m_log(file) {}

    KerasImport run(const nlohmann::json& doc);

private:
    // keras_import.cpp
    /// `subject` names the layer when the same field recurs on many (aggregated).
    void warnUnknown(const nlohmann::json& obj, const std::string& path,
                     std::initializer_list<const char*> known, const std::string& subject = "");
    /// A Functional, Model or Sequential document at `path`; `bound` feeds its
    /// inputs when it is nested inside another model.
    Outputs importModel(const nlohmann::json& model, const std::string& path, const Outputs* bound,
                        int nesting);

    // keras_functional_import.cpp
    Outputs importFunctional(const nlohmann::json& config, const std::string& path,
                             const Outputs* bound, int nesting);
    PortRef resolveRef(FunctionalScope& scope, const KerasTensorRef& ref,
                       const std::string& consumer, int depth);
    const Outputs& resolve(FunctionalScope& scope, std::size_t index, std::int64_t call,
                           const std::string& refPath, int depth);
    PortRef inputLayer(const FunctionalScope& scope, const LayerEntry& e);
    void numberNestedCalls(FunctionalScope& scope, const std::vector<KerasTensorRef>& outputs);

    // keras_sequential_import.cpp
    Outputs importSequential(const nlohmann::json& layers, const std::string& path,
                             const nlohmann::json* config, const Outputs* bound, int nesting);
    PortRef implicitInput(const nlohmann::json& layer, const std::string& lpath,
                          const nlohmann::json* seqConfig, const std::string& firstName);

    // keras_node_import.cpp
    PortRef addInput(const std::string& name, const nlohmann::json& config,
                     const std::string& path);
    /// `outputsUsed`: how many outputs the model reads (a placeholder gets as many).
    Outputs addLayer(const nlohmann::json& layer, const std::string& path, const std::string& cls,
                     const std::string& name, const Outputs& inputs, int nesting,
                     int outputsUsed = 1);
    NodeId addNode(Node node, const std::string& path);
    void resolveReshapes();

    // keras_import_settings.cpp: what an imported model says about training
    /// L2 kernel regularizers shared by (most) layers → AdamW weight decay.
    void mapRegularizers(TrainingSettings& training);
    /// A model with a channels_first layer anywhere is converted as a whole.
    static bool usesChannelsFirst(const nlohmann::json& doc, int depth = 0);
    /// Free (None) input sizes: kept variable, with a working example size.
    void sizeFreeInputs();

    ImportLog m_log;
    /// The JSON path of the layer being read, so that a value of an
    /// unexpected type met anywhere below it is reported there.
    std::string m_reading;
    Graph m_graph;
    std::vector<std::pair<NodeId, std::vector<std::int64_t>>> m_reshapes;
    /// Prepended to the names of the layers of the nested model being inlined
    /// ("encoder_"), so that names stay unique.
    std::string m_prefix;
    /// The model is channels_first: converted to channels_last as it is read.
    bool m_channelsFirst = false;
    /// Inputs whose height or width Keras leaves free (None).
    struct FreeSizeInput {
        NodeId node = kNoNode;
        bool height = false;
        bool width = false;
    };
    std::vector<FreeSizeInput> m_freeSizeInputs;
    /// Each layer that can carry a kernel_regularizer, with its pure L2 factor if any.
    struct Regularizable {
        std::string node;
        std::optional<double> l2;
        std::string warning; ///< the kind of the "… ignored" warning said of it
    };
    std::vector<Regularizable> m_regularizable;
};

} // namespace segforge::core::interop
