// The built-in prohibited / restricted items list (see /work/shared/DOMAIN.md
// section 1). Shipped as configuration, versioned, so that HQ can replace it
// with screening.categories in the config file. Keywords are a starting set:
// Chinese keywords match anywhere in a declaration, English ones whole words,
// so English plurals are listed separately.
#include "config/config.hpp"

namespace postgate::config {
namespace {

using core::ScreeningCategory;
using core::Severity;

ScreeningCategory prohibited(std::string id, std::string name, std::vector<std::string> keywords) {
  return {std::move(id), std::move(name), Severity::prohibited, std::move(keywords)};
}

ScreeningCategory restricted(std::string id, std::string name, std::vector<std::string> keywords) {
  return {std::move(id), std::move(name), Severity::restricted, std::move(keywords)};
}

}  // namespace

ScreeningConfig default_screening() {
  ScreeningConfig s;
  s.version = std::string(kDefaultScreeningVersion);
  s.categories = {
      // Confirmed category names: 01, 02, 12-19.
      prohibited("01", "firearms and ammunition (including replicas and main parts)",
                 {"枪", "枪支", "仿真枪", "弹药", "子弹", "gun", "guns", "firearm", "firearms",
                  "pistol", "rifle", "ammunition", "bullet", "bullets"}),
      prohibited(
          "02", "controlled knives and instruments",
          {"管制刀具", "匕首", "三棱刀", "弹簧刀", "弩", "dagger", "switchblade", "crossbow"}),
      // Unconfirmed category names: 03-11 (DOMAIN.md: names not found in a
      // primary source; the hazard classes of dangerous goods are assumed).
      prohibited(
          "03", "explosives",
          {"炸药", "雷管", "导火索", "烟花", "爆竹", "鞭炮", "explosive", "explosives", "detonator",
           "detonators", "firework", "fireworks", "firecracker", "firecrackers", "dynamite"}),
      prohibited("04", "compressed and liquefied gases and their containers",
                 {"压缩气体", "液化气", "液化石油气", "煤气罐", "丁烷", "氧气瓶", "灭火器",
                  "gas cylinder", "butane", "propane", "aerosol", "fire extinguisher"}),
      prohibited("05", "flammable liquids",
                 {"汽油", "柴油", "煤油", "酒精", "油漆", "稀释剂", "打火机油", "gasoline",
                  "petrol", "diesel", "kerosene", "ethanol", "paint thinner", "lighter fluid"}),
      prohibited("06", "flammable solids, spontaneously combustible and water-reactive substances",
                 {"火柴", "硫磺", "红磷", "白磷", "黄磷", "电石", "金属钠", "镁粉", "sulfur",
                  "sulphur", "phosphorus", "calcium carbide", "sodium metal", "magnesium powder"}),
      prohibited("07", "oxidisers and organic peroxides",
                 {"高锰酸钾", "过氧化氢", "过氧化钠", "氯酸钾", "硝酸铵", "oxidiser", "oxidizer",
                  "peroxide", "potassium permanganate", "chlorate", "ammonium nitrate"}),
      prohibited("08", "toxic substances",
                 {"氰化物", "砒霜", "剧毒", "毒鼠强", "农药", "水银", "cyanide", "arsenic",
                  "poison", "pesticide", "pesticides", "mercury"}),
      prohibited("09", "biological and infectious substances",
                 {"病菌", "菌种", "病毒样本", "感染性物质", "医疗废物", "infectious", "pathogen",
                  "pathogens", "medical waste", "biological specimen"}),
      prohibited("10", "radioactive materials",
                 {"放射性", "核材料", "铀", "radioactive", "uranium", "plutonium", "isotope"}),
      prohibited("11", "corrosives",
                 {"硫酸", "盐酸", "硝酸", "氢氧化钠", "烧碱", "corrosive", "sulfuric acid",
                  "sulphuric acid", "hydrochloric acid", "nitric acid", "caustic soda"}),
      prohibited(
          "12", "narcotic drugs and related items",
          {"毒品", "海洛因", "冰毒", "大麻", "可卡因", "鸦片", "摇头丸", "吸毒工具", "narcotic",
           "narcotics", "heroin", "cocaine", "methamphetamine", "cannabis", "marijuana", "opium"}),
      prohibited("13", "illegal publications and propaganda",
                 {"非法出版物", "反动宣传品", "淫秽", "邪教", "illegal publication",
                  "illegal publications", "pornographic", "obscene"}),
      prohibited("14", "espionage equipment",
                 {"间谍器材", "窃听器", "窃照器", "针孔摄像头", "spy camera", "bugging device",
                  "eavesdropping", "hidden camera"}),
      prohibited("15", "illegal counterfeits (forged currency, documents, seals)",
                 {"伪造", "假币", "假钞", "假证", "假发票", "假印章", "counterfeit currency",
                  "counterfeit money", "forged", "fake banknote", "fake banknotes"}),
      prohibited("16", "goods infringing intellectual property, fake and shoddy goods",
                 {"侵权", "假冒", "盗版", "高仿", "仿冒", "counterfeit", "pirated", "knockoff",
                  "knock-off"}),
      prohibited("17", "endangered wildlife and their products",
                 {"象牙", "犀牛角", "穿山甲", "虎骨", "熊胆", "濒危", "ivory", "rhino horn",
                  "pangolin", "tiger bone", "endangered"}),
      prohibited("18", "goods banned from import or export",
                 {"禁止进出境", "走私", "文物", "洋垃圾", "smuggled", "contraband",
                  "cultural relic", "cultural relics"}),
      prohibited("19", "other items banned by law",
                 {"违禁品", "危险品", "危险物品", "dangerous goods", "hazardous material",
                  "hazardous materials"}),

      restricted("R1", "lithium batteries and power banks",
                 {"锂电池", "充电宝", "移动电源", "power bank", "power banks", "lithium battery",
                  "lithium batteries"}),
      restricted("R2", "liquids and cosmetics",
                 {"液体", "化妆品", "香水", "指甲油", "perfume", "liquid", "liquids", "cosmetics",
                  "nail polish"}),
      restricted("R3", "medicines", {"药品", "药物", "medicine", "medicines", "medication"}),
      restricted("R4", "alcoholic beverages",
                 {"白酒", "红酒", "啤酒", "黄酒", "liquor", "wine", "spirits", "beer"}),
  };
  return s;
}

}  // namespace postgate::config
