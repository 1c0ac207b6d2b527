//! S7's corpus: a deterministic stream of chat messages in English and Chinese.
//!
//! English words follow a Zipf law (frequency ∝ 1/rank) over a vocabulary of a few
//! hundred common words followed by a long tail of made-up words built from syllables,
//! so that there are words in every frequency class from "the" down to a few dozen
//! uses in a million messages. Chinese sentences are words (Zipf again) from a list of
//! common words and a tail of two-character words built from the same few hundred
//! characters. Rooms are busy or quiet (Zipf with a flatter exponent), authors too.
//! The same seed gives the same messages, byte for byte.

/// SplitMix64: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Draws ranks 0..n with probability ∝ 1/(rank+1)^s.
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for rank in 1..=n {
            total += 1.0 / (rank as f64).powf(s);
            cdf.push(total);
        }
        for v in &mut cdf {
            *v /= total;
        }
        Zipf { cdf }
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

/// Common English words, most frequent first (roughly as in chat).
const ENGLISH: &str = "the i to you a and it is that of in for me my on this be have do not \
    we with so but just what are can was at your if no all get like know about it's up out \
    how will one good now there they think go time yes he or want here one don't would \
    from people see then really more well when got need an by she his them some make right \
    work day today going back did who because also new very our still much us ok thanks \
    sure her why been could way too take thing over come something let should oh \
    off yeah after any first last other only never lol great even tomorrow said home look \
    night meeting before again love find next many tell these week long maybe try free \
    give call most little same those always morning feel lunch help done team best start \
    little place someone which into thank late big use nice every around while year better \
    things down found says said read put keep show bad point hope name probably world \
    through question life pretty wait mean actually already fine away left ever yet \
    problem both each enough between though where happy build test code release server \
    bug fix deploy review branch merge issue ticket coffee weekend friday monday office \
    email phone game movie music book food dinner plan trip city train bus car weather \
    rain sun cold hot water open close send message chat room link file photo video \
    picture party birthday school class exam project report deadline client customer \
    price money pay buy sell market news story idea reason answer different important \
    possible small large early half hour minute second number part end kind sort type \
    side line group order level case point fact head hand eye face door window table \
    paper letter page word list data system change result state program website update \
    version feature support database query search index cache memory network latency \
    benchmark design interface screen mobile desktop browser cloud cluster node backup \
    password account login session token error warning crash restart config script";

/// Syllables for the long tail of made-up English words.
const SYLLABLES: [&str; 48] = [
    "ka", "ro", "mi", "ten", "sa", "lo", "vin", "de", "ra", "pel", "to", "ni", "mar", "cu", "bel", "so", "fa", "ger",
    "li", "mo", "dan", "pu", "te", "ros", "ve", "nal", "qui", "zor", "ba", "len", "ti", "sor", "ga", "mel", "do",
    "ran", "fi", "kor", "ha", "lu", "ver", "nu", "pri", "sel", "tor", "wa", "xi", "yel",
];

/// Common Chinese words, most frequent first (a few hundred distinct characters).
const CHINESE: &str = "的 我 你 是 了 不 在 他 我们 这 有 好 就 人 都 一个 也 什么 没有 说 \
    要 吗 吧 你们 知道 可以 今天 就是 现在 时候 还 去 来 会 看 想 很 这个 那 对 能 自己 \
    他们 问题 已经 因为 所以 但是 一下 出来 还是 觉得 明天 东西 工作 时间 朋友 大家 事情 \
    怎么 为什么 一起 开始 需要 应该 可能 发现 喜欢 中国 北京 上海 公司 电话 手机 电脑 \
    网络 服务器 数据库 系统 版本 更新 测试 代码 程序 项目 会议 下午 上午 晚上 周末 吃饭 \
    咖啡 天气 下雨 学校 老师 学生 考试 孩子 妈妈 爸爸 家里 回家 地方 城市 火车 飞机 \
    医院 身体 休息 睡觉 起床 周一 周五 文件 图片 视频 音乐 电影 新闻 消息 群里 房间 \
    链接 密码 账号 登录 搜索 结果 速度 性能 延迟 内存 错误 重启 配置 部署 上线 发布 \
    客户 价格 市场 钱 买 卖 便宜 贵 快 慢 大 小 多 少 新 旧 高兴 开心 谢谢 辛苦 加油 \
    没问题 好的 收到 明白 同意 讨论 决定 计划 安排 准备 完成 结束 继续 等等 马上 以后 \
    以前 刚才 最近 一直 经常 有时候 真的 非常 特别 比较 其实 当然 如果 虽然 而且 或者";

/// How many made-up words follow the real ones.
const ENGLISH_TAIL: usize = 40_000;
const CHINESE_TAIL: usize = 12_000;

/// One generated message.
pub struct Message {
    /// 0-based index of the room among the seeded rooms.
    pub room: usize,
    /// 0-based index of the author among the seeded users.
    pub author: usize,
    pub text: String,
}

/// The message stream.
pub struct Corpus {
    rng: Rng,
    english: Vec<String>,
    chinese: Vec<String>,
    english_zipf: Zipf,
    chinese_zipf: Zipf,
    rooms: Zipf,
    authors: Zipf,
    /// English words mixed into Chinese sentences (the first few hundred).
    tech: usize,
}

impl Corpus {
    pub fn new(seed: u64, rooms: usize, authors: usize) -> Corpus {
        let mut seen = std::collections::HashSet::new();
        let mut english: Vec<String> = Vec::new();
        for w in ENGLISH.split_whitespace() {
            // Only plain lowercase ASCII words, once each (the list is hand-written).
            if w.chars().all(|c| c.is_ascii_lowercase() || c == '\'') && seen.insert(w.to_owned()) {
                english.push(w.to_owned());
            }
        }
        let mut rng = Rng::new(seed ^ 0x5EED);
        while english.len() < ENGLISH.split_whitespace().count() + ENGLISH_TAIL {
            let syllables = 2 + rng.below(3);
            let word: String = (0..syllables).map(|_| SYLLABLES[rng.below(SYLLABLES.len())]).collect();
            if seen.insert(word.clone()) {
                english.push(word);
            }
        }
        let mut chinese: Vec<String> = Vec::new();
        let mut chars: Vec<char> = Vec::new();
        for w in CHINESE.split_whitespace() {
            if seen.insert(w.to_owned()) {
                chinese.push(w.to_owned());
                for c in w.chars() {
                    if !chars.contains(&c) {
                        chars.push(c);
                    }
                }
            }
        }
        let common = chinese.len();
        while chinese.len() < common + CHINESE_TAIL {
            let word: String = [chars[rng.below(chars.len())], chars[rng.below(chars.len())]].iter().collect();
            if seen.insert(word.clone()) {
                chinese.push(word);
            }
        }
        Corpus {
            rng: Rng::new(seed),
            english_zipf: Zipf::new(english.len(), 1.0),
            chinese_zipf: Zipf::new(chinese.len(), 1.0),
            english,
            chinese,
            rooms: Zipf::new(rooms, 0.6),
            authors: Zipf::new(authors, 0.8),
            tech: 300,
        }
    }

    /// The distinct CJK characters the Chinese text is made of.
    pub fn chinese_characters(&self) -> usize {
        let mut chars: Vec<char> = self.chinese.iter().flat_map(|w| w.chars()).collect();
        chars.sort_unstable();
        chars.dedup();
        chars.len()
    }

    pub fn english_vocabulary(&self) -> usize {
        self.english.len()
    }

    pub fn chinese_vocabulary(&self) -> usize {
        self.chinese.len()
    }

    fn english_sentence(&mut self, out: &mut String) {
        // 3 to 24 words, 13 on average.
        let words = 3 + self.rng.below(8) + self.rng.below(8) + self.rng.below(8);
        for i in 0..words {
            let word = &self.english[self.english_zipf.sample(&mut self.rng)];
            if i == 0 && self.rng.below(3) == 0 {
                let mut cs = word.chars();
                if let Some(first) = cs.next() {
                    out.extend(first.to_uppercase());
                    out.push_str(cs.as_str());
                }
            } else {
                out.push_str(word);
            }
            if i + 1 < words {
                out.push_str(if self.rng.below(12) == 0 { ", " } else { " " });
            }
        }
        match self.rng.below(6) {
            0 => out.push('?'),
            1 => out.push('!'),
            2 | 3 => out.push('.'),
            _ => {}
        }
    }

    fn chinese_sentence(&mut self, out: &mut String, mixed: bool) {
        // 2 to 14 words, 8 on average (about 14 characters).
        let words = 2 + self.rng.below(5) + self.rng.below(5) + self.rng.below(5);
        for i in 0..words {
            if mixed && self.rng.below(4) == 0 {
                // An English word in the middle, as people write "用rust写" or "部署 server".
                let word = &self.english[self.rng.below(self.tech)];
                if self.rng.below(2) == 0 {
                    out.push(' ');
                    out.push_str(word);
                    out.push(' ');
                } else {
                    out.push_str(word);
                }
                continue;
            }
            out.push_str(&self.chinese[self.chinese_zipf.sample(&mut self.rng)]);
            if i + 1 < words && self.rng.below(7) == 0 {
                out.push('，');
            }
        }
        match self.rng.below(4) {
            0 => out.push('。'),
            1 => out.push('？'),
            2 => out.push('！'),
            _ => {}
        }
    }

    /// The next message: 55% English, 35% Chinese, 10% Chinese with English words.
    pub fn next_message(&mut self) -> Message {
        let room = self.rooms.sample(&mut self.rng);
        let author = self.authors.sample(&mut self.rng);
        let mut text = String::with_capacity(96);
        match self.rng.below(20) {
            0..=10 => self.english_sentence(&mut text),
            11..=17 => self.chinese_sentence(&mut text, false),
            _ => self.chinese_sentence(&mut text, true),
        }
        Message { room, author, text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_messages() {
        let mut a = Corpus::new(7, 100, 1000);
        let mut b = Corpus::new(7, 100, 1000);
        for _ in 0..1000 {
            let (x, y) = (a.next_message(), b.next_message());
            assert_eq!((x.room, x.author, x.text), (y.room, y.author, y.text));
        }
    }

    #[test]
    fn the_corpus_mixes_languages_over_a_few_hundred_characters() {
        let mut corpus = Corpus::new(1, 100, 1000);
        let messages: Vec<Message> = (0..2000).map(|_| corpus.next_message()).collect();
        let chinese = messages.iter().filter(|m| m.text.chars().any(|c| c as u32 >= 0x4E00)).count();
        assert!((600..1000).contains(&chinese), "{chinese} of 2000 have Chinese");
        let chars = corpus.chinese_characters();
        assert!((200..600).contains(&chars), "{chars} characters");
        assert!(messages.iter().all(|m| m.room < 100 && m.author < 1000 && !m.text.is_empty()));
        // No @mentions (nothing to resolve), no quotes but the apostrophe of "don't".
        assert!(messages.iter().all(|m| !m.text.contains(['@', '"', '\\'])));
    }

    #[test]
    fn zipf_puts_most_weight_on_the_first_ranks() {
        let zipf = Zipf::new(1000, 1.0);
        let mut rng = Rng::new(3);
        let firsts = (0..10_000).filter(|_| zipf.sample(&mut rng) == 0).count();
        // 1/H(1000) ≈ 13.4%.
        assert!((1100..1600).contains(&firsts), "{firsts}");
    }
}
