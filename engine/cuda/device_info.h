// What CUDA sees on this machine. Built only when nvcc is found (CHANGJUAN_HAVE_CUDA).
#pragma once
#include <string>
#include <vector>

namespace cj::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int sm_major = 0, sm_minor = 0;
  size_t total_bytes = 0;
};

// Empty when no driver or no device is present (never throws or aborts); *why says which.
std::vector<DeviceInfo> list_devices(std::string* why = nullptr);

}  // namespace cj::cuda
