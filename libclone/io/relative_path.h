// Names that must stay inside a directory: a file name received from outside (a donor, a stream)
// only ever becomes a path under the target, never through "..", "." or an empty component.
#pragma once

#include <string_view>
#include <vector>

namespace mysqlclone {

// Splits `rel` (a name relative to a directory, without a leading "/") on '/' into `out`.
// Returns nullptr when every component is a plain name, else why not ("has a '..' component",
// "ends with '/'", "has an empty component", "has a '.' component").
const char* split_relative_path(std::string_view rel, std::vector<std::string_view>& out);

}  // namespace mysqlclone
