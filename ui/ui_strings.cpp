#include "ui/ui_strings.h"

namespace cj::ui {

// Generated from the string literals of ui/*.cpp by ui/gen_ui_strings.py (tests/ui/ui_strings_test.cpp checks
// that it is complete).
const char* ui_strings() {
  return "·—“”…→、。一万上下不与丢个中为之也书事于人从他令件任伏会位何余作侧保修做停"
         "储先入全其内写出击分列别到刷前剩力加务助势占卡卷历原及发取受另只可台史合名后含命"
         "和品器回因围图在地场型埋处备复大失如始字存定实容对导小尚层展左差已带并度建开异式"
         "引当录径待忆忽态性恢成或户手打执找拍择指按接搜摘撤擎改放效数整文新无旧时显曲更最"
         "有未本机条构查梗检概模止正此段每比气求没流消添点片版牌物状率现理生用界略登的盘目"
         "盾看矛知确磁示秒称程稿立章端笔符第等算索纯纲线续缀缓编缩置能自至致节范草落蓄行要"
         "视订认记设词译语说请谓败起路跳转载辑近还这进退选逐重钮销长问间队随需面项预题（）"
         "，：；";
}

}  // namespace cj::ui
