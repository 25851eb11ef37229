"""Generic probe texts: what unrelated library passages look like to an embedding model.

Each row is one everyday sentence or on-screen title in English and in Chinese (the same
meaning). They are deliberately generic (household, work, sport, health, nature, money,
transport, school, news) and are NOT drawn from any evaluation corpus. The calibration uses them
two ways, per model (see :mod:`scenespark.search.calibration`):

* as a background: how similar a query is to passages that are (almost all) not about it;
* as anchors: how far above that background a translation of the same sentence lands, i.e.
  what a clear match looks like for this model, within and across languages.

Adding a language means adding a column here (and its script to ``language_of``).
"""

from __future__ import annotations

PROBES: tuple[tuple[str, str], ...] = (
    ("Please remember to water the plants on the balcony.", "记得给阳台上的花浇水。"),
    ("The meeting has been moved to Thursday afternoon.", "会议改到周四下午了。"),
    ("My grandmother taught me how to knit a scarf.", "奶奶教我织了一条围巾。"),
    ("The printer on the third floor is out of paper.", "三楼的打印机没纸了。"),
    ("He scored the winning goal in the last minute.", "他在最后一分钟打进了制胜球。"),
    ("Drink enough water when you exercise in summer.", "夏天运动时要多喝水。"),
    ("The library closes at nine o'clock tonight.", "图书馆今晚九点关门。"),
    ("She is saving money to buy her first apartment.", "她正在攒钱买第一套房子。"),
    ("The children built a sandcastle on the beach.", "孩子们在海滩上堆了一个沙堡。"),
    ("Turn left at the second traffic light.", "在第二个红绿灯左转。"),
    ("The doctor said I should get more sleep.", "医生说我应该多睡觉。"),
    ("Our team finished the project two days early.", "我们团队提前两天完成了项目。"),
    ("This recipe needs three eggs and a cup of flour.", "这个食谱需要三个鸡蛋和一杯面粉。"),
    ("The museum has a new exhibition of old maps.", "博物馆有一个古老地图的新展览。"),
    ("I forgot my umbrella on the bus this morning.", "我今天早上把雨伞忘在公交车上了。"),
    ("The students are preparing for the final exam.", "学生们正在准备期末考试。"),
    ("Prices at the supermarket went up again.", "超市的价格又涨了。"),
    ("The old bridge is closed for repairs.", "那座老桥正在维修，暂时封闭。"),
    ("We planted tomatoes and peppers in the garden.", "我们在菜园里种了西红柿和辣椒。"),
    ("The concert tickets sold out in ten minutes.", "音乐会的票十分钟就卖完了。"),
    ("Wash your hands before you eat.", "吃饭前要洗手。"),
    ("The company will hire twenty new engineers.", "公司将招聘二十名新工程师。"),
    ("A strong wind knocked down the fence.", "一阵大风把篱笆吹倒了。"),
    ("He is learning to play the guitar.", "他正在学弹吉他。"),
    ("The hotel room has a view of the mountains.", "酒店房间可以看到山景。"),
    ("Please sign the form and return it by Friday.", "请在周五前签好表格交回来。"),
    ("The baby finally fell asleep.", "宝宝终于睡着了。"),
    ("Our neighbours adopted a puppy last week.", "我们的邻居上周领养了一只小狗。"),
    ("The mobile phone battery drains too quickly.", "手机电池耗电太快了。"),
    ("The farmers are harvesting the wheat.", "农民们正在收割小麦。"),
    ("The painting was sold at an auction.", "这幅画在拍卖会上卖掉了。"),
    ("Don't forget to lock the door when you leave.", "出门时别忘了锁门。"),
    ("The river flooded after three days of rain.", "连下三天雨后河水泛滥了。"),
    ("She won a gold medal in swimming.", "她获得了游泳金牌。"),
    ("The new law takes effect next month.", "新法律下个月生效。"),
    ("I need to renew my passport.", "我需要更新护照。"),
    ("The kitchen sink is leaking.", "厨房的水槽漏水了。"),
    ("The teacher read a story to the class.", "老师给全班同学读了一个故事。"),
    ("Fresh bread is sold every morning at the bakery.", "面包店每天早上卖新鲜面包。"),
    ("The elevator is out of order.", "电梯坏了。"),
    ("Opening hours", "营业时间"),
    ("Emergency exit", "紧急出口"),
    ("Chapter three: the journey home", "第三章：回家的路"),
    ("Breaking news", "突发新闻"),
    ("Sale: fifty percent off", "促销：五折"),
    ("Thank you for your patience", "感谢您的耐心"),
    ("No parking", "禁止停车"),
    ("Annual sales report", "年度销售报告"),
    ("Welcome to the conference", "欢迎参加会议"),
    ("Step two: mix the ingredients", "第二步：混合材料"),
    ("Lost and found", "失物招领"),
    ("Please keep quiet", "请保持安静"),
    ("Live from the stadium", "体育场现场直播"),
    ("Price list", "价目表"),
    ("Question and answer session", "问答环节"),
    ("Coming soon", "即将推出"),
)
LANGUAGES: tuple[str, ...] = ("en", "zh")
