#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "engine/base/file.h"
#include "engine/format/safetensors.h"

using namespace cj;

namespace {

std::string make_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

std::string tmp_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string("cj_st_") + name + std::to_string(::getpid()))).string();
}

}  // namespace

TEST(Safetensors, ReadsF32F16Bf16) {
  std::string data;
  const float f32[3] = {1.0f, -2.5f, 3.25f};
  data.append(reinterpret_cast<const char*>(f32), 12);
  const uint16_t f16[2] = {0x3C00, 0xC000};  // 1.0, -2.0
  data.append(reinterpret_cast<const char*>(f16), 4);
  const uint16_t bf16[2] = {0x3F80, 0x4040};  // 1.0, 3.0
  data.append(reinterpret_cast<const char*>(bf16), 4);
  const std::string hdr = R"({"__metadata__":{"format":"pt"},)"
                          R"("a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                          R"("b":{"dtype":"F16","shape":[1,2],"data_offsets":[12,16]},)"
                          R"("c":{"dtype":"BF16","shape":[2],"data_offsets":[16,20]}})";
  const std::string path = tmp_path("ok");
  ASSERT_TRUE(write_file_atomic(path, make_file(hdr, data)).ok());
  auto f = SafetensorsFile::open(path);
  ASSERT_TRUE(f.ok()) << f.error();
  ASSERT_EQ(f->tensors().size(), 3u);
  float out[3];
  safetensor_to_f32(*f->find("a"), out);
  EXPECT_EQ(out[1], -2.5f);
  safetensor_to_f32(*f->find("b"), out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(f->find("b")->shape, (std::vector<int64_t>{1, 2}));
  safetensor_to_f32(*f->find("c"), out);
  EXPECT_EQ(out[1], 3.0f);
  std::remove(path.c_str());
}

TEST(Safetensors, RejectsBadFiles) {
  const std::string path = tmp_path("bad");
  const std::pair<std::string, std::string> cases[] = {
      {R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", std::string(12, '\0')},  // past the end
      {R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,12]}})", std::string(12, '\0')},  // size/shape mismatch
      {R"({"a":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}})", std::string(4, '\0')},     // dtype
      {R"({"a":{"dtype":"F32","shape":[3]}})", std::string(12, '\0')},                         // no offsets
      {R"({not json)", ""},
  };
  for (const auto& [hdr, data] : cases) {
    ASSERT_TRUE(write_file_atomic(path, make_file(hdr, data)).ok());
    auto f = SafetensorsFile::open(path);
    EXPECT_FALSE(f.ok()) << hdr;
  }
  std::string huge(8, '\xff');
  ASSERT_TRUE(write_file_atomic(path, huge + "{}").ok());
  EXPECT_FALSE(SafetensorsFile::open(path).ok());
  std::remove(path.c_str());
}
