#pragma once

// How the CLI prints what a load or an import had to say besides errors.

#include <string>
#include <vector>

namespace segforge::cli {

/// Writes each message to stderr on a line of its own: a warning (something
/// approximated or ignored) ends in " (warning)"; a note (`file: note: what`,
/// something the import changed on purpose and says so) is printed as it is.
void printLoadMessages(const std::vector<std::string>& messages);

} // namespace segforge::cli
