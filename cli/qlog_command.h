// `quiver qlog summary|plot` (cli/qlog_command.cpp).
#pragma once

#include "commands.h"

namespace quiver {

Command register_qlog(CLI::App& app);

}  // namespace quiver
