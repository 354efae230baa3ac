#include "ui/ui_strings.h"

namespace cj::ui {

// Generated from the string literals of ui/*.cpp by ui/gen_ui_strings.py (tests/ui/ui_strings_test.cpp checks
// that it is complete).
const char* ui_strings() {
  return
      "·“”…→、。一万上下不与中为之也书事于人从他令件任伏位余作侧保修做停储入全其内"
      "写出击分列别到刷前剩力加务助势占卡卷原及发取受只可台合名后含命和品器回因围图在地"
      "场型埋处备大失如始字存定实容对小尚层展左差已带并度建开异式引当录径待忆忽态性成或"
      "户手打执找拍择指按接搜摘撤擎改放效数整文新无时显曲更最有未本机条构查梗检概模止正"
      "此段每比气求没流消添点片版牌物状率现理生用界略登的盘盾看矛知确磁示秒称程稿立章端"
      "笔第等算索纲线续缀缓编缩置自至致节范草落蓄行要视订认记设词译语说谓败起路跳转载辑"
      "近还这进退选逐重钮销长间队随需面项预（），：；";
}

}  // namespace cj::ui
