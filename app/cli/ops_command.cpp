#include "cli/commands.hpp"
#include "ops/op_registry.hpp"
#include "project/project_file.hpp"

#include <iostream>
#include <memory>

namespace segforge::cli {

namespace {

nlohmann::json portsJson(const std::vector<core::PortSpec>& ports) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : ports) {
        nlohmann::json dtypes = nlohmann::json::array();
        for (auto d : p.accepts)
            dtypes.push_back(std::string(core::dtypeName(d)));
        out.push_back({{"name", p.name}, {"dtypes", dtypes}, {"description", p.description}});
    }
    return out;
}

int runOps(bool json) {
    const auto& registry = core::OpRegistry::builtin();
    if (json) {
        nlohmann::json ops = nlohmann::json::array();
        for (const auto& s : registry.all()) {
            nlohmann::json attrs = nlohmann::json::array();
            for (const auto& a : s.attrs) {
                attrs.push_back({{"name", a.name},
                                 {"type", std::string(core::attrTypeName(a.type))},
                                 {"default", core::attrToJson(a.defaultValue)},
                                 {"domain", core::describeAttrDomain(a)},
                                 {"description", a.description}});
            }
            ops.push_back({{"name", s.name},
                           {"category", s.category},
                           {"description", s.description},
                           {"inputs", portsJson(s.inputs)},
                           {"variadic_inputs", s.variadicInputs},
                           {"outputs", portsJson(s.outputs)},
                           {"attributes", attrs}});
        }
        std::cout << ops.dump(2) << "\n";
        return kExitOk;
    }
    std::string category;
    for (const auto& s : registry.all()) {
        if (s.category != category) {
            category = s.category;
            std::cout << "\n" << category << "\n";
        }
        std::cout << "  " << s.name << " — " << s.description << "\n";
        for (const auto& a : s.attrs)
            std::cout << "      " << a.name << " = " << core::attrToString(a.defaultValue) << "  ("
                      << core::describeAttrDomain(a) << ")\n";
    }
    return kExitOk;
}

} // namespace

Command addOpsCommand(CLI::App& app) {
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand("ops", "List every op with its ports and attributes");
    cmd->add_flag("--json", *json, "print the list as JSON");
    return {cmd, [json] { return runOps(*json); }};
}

} // namespace segforge::cli
