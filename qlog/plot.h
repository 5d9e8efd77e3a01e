// `quiver qlog plot`: one SVG with three panels over the connection's time:
//   1. congestion window and bytes in flight (bytes),
//   2. RTT: min, smoothed and latest (ms),
//   3. stream data sent per stream (highest offset sent, bytes); when the trace's endpoint
//      sent no stream data, the data it received instead.
// Plain hand-written SVG 1.1: axes with units and ticks, a legend per panel, titles.
#pragma once

#include <string>

#include "qlog/reader.h"

namespace qlog {

struct PlotOptions {
    int width = 1000;          // pixels
    int panel_height = 260;    // plot area of one panel
    size_t max_streams = 8;    // streams drawn; the rest are summed as "other streams"
    size_t max_points = 2000;  // per series; longer series are reduced to min/max per column
};

std::string render_svg(const Trace& trace, const PlotOptions& options = {});

}  // namespace qlog
