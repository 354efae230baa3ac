#include "ui/ui_strings.h"

namespace cj::ui {

// Generated from the string literals of ui/*.cpp by ui/gen_ui_strings.py (tests/ui/ui_strings_test.cpp checks
// that it is complete).
const char* ui_strings() {
  return
      "·—“”…→、。一万上下不与丢个中为主之也书了事于人仍从他令件任伏会位何余作使侧"
      "保修倒做停先光入全其内再写减出击分列别到制刷前剩力加务动助势占卡卷历原去及发取受"
      "口另只可台史合名后含命和品器回因围图在地场型埋境处复大失头如始字存它完定实容对导"
      "射小少尚就层展左差已带库度建开弃引当录往径待忽性恢成或手才打扩找拍择指按换掉排接"
      "描搜摘撤擎改放效数文断新无旧早时映显暂更替最有服未本机条构果查标梗检概模止正此死"
      "段每比毫气求没法消添点片版牌物环现理生用界留略登的盘目盾看着矛知短确磁示秒称移程"
      "稿窗立章端笔符第等算索约纯纲线结绘继绪续维缀缓编缩置能至致节范草落蓄行表要视计订"
      "认记设词译该语说请读败起路跳转载辑过运近还这进连退选部里重钮销长问间队限随需面项"
      "预题高（），：；";
}

}  // namespace cj::ui
