#pragma once

// The Python that the exporters emit lives in resources/python/*.py, where Python
// tools can lint and run it; the build embeds each file (core/CMakeLists.txt).
// A file's lines above its marker line ("# --- SegForge embeds the lines below in
// exported scripts ---": imports and placeholder defaults) make it run on its
// own; the lines below it go into the exported scripts.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace segforge::core::interop {

/// The embedded part of resources/python/<stem>.py (throws std::logic_error for
/// an unknown stem: a build without the file).
std::string pythonSource(std::string_view stem);

/// The stems of every embedded file, sorted.
std::vector<std::string> pythonSourceStems();

/// `text` with each placeholder name (SEGFORGE_…, a whole word) replaced by its
/// value, in one pass (a value is never read as a placeholder); throws
/// std::logic_error when a placeholder does not occur.
std::string fillPlaceholders(std::string text,
                             const std::vector<std::pair<std::string, std::string>>& values);

} // namespace segforge::core::interop
