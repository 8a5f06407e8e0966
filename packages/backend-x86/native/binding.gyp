{
  # The DPDK port driver's addon: Debian's libdpdk through pkg-config, node-addon-api headers.
  # Built by build.mjs (the package's install script), which skips it when libdpdk is absent.
  "targets": [
    {
      "target_name": "flextoe_dpdk",
      "sources": ["src/flextoe_dpdk.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "<!@(pkg-config --cflags libdpdk)"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libdpdk)", "-lpthread"]
    }
  ]
}
