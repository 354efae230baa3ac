#include "studio/check/confusables.h"

#include <unordered_map>

namespace cj::check {

namespace {

// Each group: characters confusable with each other (shape or sound). A character may be in several groups.
const char32_t* const kGroups[] = {
    // shape
    U"玉王主", U"己已巳", U"未末", U"土士", U"日曰", U"人入八", U"天夫", U"戊戌戍", U"贝见", U"刀力",
    U"大太犬", U"田由甲申", U"千干于", U"木术本", U"今令", U"母毋", U"住往", U"候侯", U"析折", U"淋琳",
    U"黛黧", U"钗钏", U"贾贯", U"熙煕", U"琏链", U"湘缃", U"釭钢缸", U"鸳鸯", U"晴睛", U"蟠璠", U"纨执",
    U"刘浏", U"备各", U"羽习", U"飞乙", U"亮高", U"瑜谕", U"懿噫", U"权杈", U"操燥", U"卓桌", U"袁哀",
    U"绍昭", U"策荣", U"坚竖", U"超趄", U"赵越", U"吕侣", U"貂雕", U"蝉婵", U"孔孙", U"鲁曾", U"肃萧",
    U"葛蔼", U"徐涂", U"庶席", U"维推", U"邢刑", U"李季", U"探深", U"惜借", U"迎仰", U"薛醉", U"袭龚",
    U"麝摩", U"秦泰", U"尤犹", U"蓉容", U"蔷墙", U"芹芩", U"珍诊", U"赦赫", U"甄瓯", U"鹃娟", U"莺鹦",
    U"琴瑟", U"岫袖", U"烟湮", U"妙炒", U"巧朽", U"兰栏", U"环坏", U"姜羌", U"瑾谨", U"攸悠", U"郭廓",
    U"嘉喜", U"昭照", U"禅蝉", U"乔桥", U"逊孙", U"凌陵", U"黄寅", U"忠中", U"典曲", U"韦伟", U"许浒",
    U"褚楮", U"夏复", U"侯候", U"惇淳", U"渊湖", U"沈沉", U"纪记", U"颜彦", U"丑田", U"魏巍", U"延廷",
    // same or near sound
    U"黛戴代岱", U"宝保", U"钗差", U"湘香相襄", U"凤风奉", U"琏连莲廉", U"云芸耘", U"玉钰", U"林琳霖",
    U"贾假", U"政正", U"雨语宇羽", U"村存", U"英瑛莹", U"莲怜", U"可柯", U"卿清青", U"钟锺忠", U"瑞睿",
    U"姐洁", U"平萍", U"春椿纯", U"元园圆", U"琥虎", U"珀魄", U"鸳渊", U"鸯央", U"麝射", U"月悦",
    U"备倍", U"曹槽", U"操糙", U"亮谅量", U"诸朱珠", U"葛格", U"孔恐", U"明铭鸣", U"飞非菲", U"关官",
    U"张章彰", U"云运韵", U"吕旅", U"布步", U"瑜渝愉", U"权全泉", U"孙荪", U"司思", U"懿义艺", U"维唯",
    U"袁元原", U"绍少", U"董懂", U"卓灼", U"肃素", U"鲁卢", U"庞旁", U"统通", U"超朝", U"忠仲", U"昭招",
    U"姜江", U"邓登", U"艾爱", U"钟忠", U"会惠慧", U"羊杨阳", U"祜护", U"淳纯", U"典点", U"褚楚",
    U"颜言严", U"良梁", U"丑筹", U"纪继", U"灵玲", U"袭席", U"晴情", U"紫子", U"鹃绢", U"芳方",
};

std::unordered_map<char32_t, std::u32string> build() {
  std::unordered_map<char32_t, std::u32string> m;
  for (const char32_t* g : kGroups) {
    std::u32string s(g);
    for (char32_t a : s)
      for (char32_t b : s)
        if (a != b && m[a].find(b) == std::u32string::npos) m[a].push_back(b);
  }
  return m;
}

}  // namespace

const std::u32string& confusables_of(char32_t c) {
  static const auto table = build();
  static const std::u32string empty;
  auto it = table.find(c);
  return it == table.end() ? empty : it->second;
}

}  // namespace cj::check
