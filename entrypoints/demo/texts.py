"""Public-domain openings used by ``kksync demo`` (Austen 1813, Carroll 1865, Sun Tzu tr. Giles 1910,
Melville 1851, Wells 1895). Short excerpts, enough paragraphs and sentences for real koboSpans."""

from __future__ import annotations

PRIDE = [
    (
        "Chapter 1",
        [
            "It is a truth universally acknowledged, that a single man in possession of a good fortune, "
            "must be in want of a wife.",
            "However little known the feelings or views of such a man may be on his first entering a "
            "neighbourhood, this truth is so well fixed in the minds of the surrounding families, that he is "
            "considered the rightful property of some one or other of their daughters.",
            "\u201cMy dear Mr. Bennet,\u201d said his lady to him one day, \u201chave you heard that "
            "Netherfield Park is let at last?\u201d",
            "Mr. Bennet replied that he had not.",
            "\u201cBut it is,\u201d returned she; \u201cfor Mrs. Long has just been here, and she told me all "
            "about it.\u201d",
            "Mr. Bennet made no answer.",
            "\u201cDo you not want to know who has taken it?\u201d cried his wife impatiently.",
            "\u201cYou want to tell me, and I have no objection to hearing it.\u201d",
            "This was invitation enough.",
        ],
    ),
    (
        "Chapter 2",
        [
            "Mr. Bennet was among the earliest of those who waited on Mr. Bingley. He had always intended to "
            "visit him, though to the last always assuring his wife that he should not go; and till the "
            "evening after the visit was paid she had no knowledge of it.",
            "It was then disclosed in the following manner. Observing his second daughter employed in trimming "
            "a hat, he suddenly addressed her with, \u201cI hope Mr. Bingley will like it, Lizzy.\u201d",
            "\u201cWe are not in a way to know what Mr. Bingley likes,\u201d said her mother resentfully, "
            "\u201csince we are not to visit.\u201d",
            "\u201cBut you forget, mamma,\u201d said Elizabeth, \u201cthat we shall meet him at the assemblies, "
            "and that Mrs. Long promised to introduce him.\u201d",
            "\u201cI do not believe Mrs. Long will do any such thing. She has two nieces of her own. She is a "
            "selfish, hypocritical woman, and I have no opinion of her.\u201d",
            "\u201cNo more have I,\u201d said Mr. Bennet; \u201cand I am glad to find that you do not depend on "
            "her serving you.\u201d",
            "Mrs. Bennet deigned not to make any reply, but, unable to contain herself, began scolding one of "
            "her daughters.",
        ],
    ),
    (
        "Chapter 3",
        [
            "Not all that Mrs. Bennet, however, with the assistance of her five daughters, could ask on the "
            "subject, was sufficient to draw from her husband any satisfactory description of Mr. Bingley.",
            "They attacked him in various ways; with barefaced questions, ingenious suppositions, and distant "
            "surmises; but he eluded the skill of them all, and they were at last obliged to accept the "
            "second-hand intelligence of their neighbour, Lady Lucas.",
            "Her report was highly favourable. Sir William had been delighted with him. He was quite young, "
            "wonderfully handsome, extremely agreeable, and, to crown the whole, he meant to be at the next "
            "assembly with a large party.",
            "Nothing could be more delightful! To be fond of dancing was a certain step towards falling in "
            "love; and very lively hopes of Mr. Bingley\u2019s heart were entertained.",
        ],
    ),
]

ALICE = [
    (
        "Down the Rabbit-Hole",
        [
            "Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing "
            "to do: once or twice she had peeped into the book her sister was reading, but it had no pictures "
            "or conversations in it, \u201cand what is the use of a book,\u201d thought Alice \u201cwithout "
            "pictures or conversations?\u201d",
            "So she was considering in her own mind (as well as she could, for the hot day made her feel very "
            "sleepy and stupid), whether the pleasure of making a daisy-chain would be worth the trouble of "
            "getting up and picking the daisies, when suddenly a White Rabbit with pink eyes ran close by her.",
            "There was nothing so very remarkable in that; nor did Alice think it so very much out of the way "
            "to hear the Rabbit say to itself, \u201cOh dear! Oh dear! I shall be late!\u201d",
            "In another moment down went Alice after it, never once considering how in the world she was to "
            "get out again.",
        ],
    ),
    (
        "The Pool of Tears",
        [
            "\u201cCuriouser and curiouser!\u201d cried Alice (she was so much surprised, that for the moment "
            "she quite forgot how to speak good English).",
            "\u201cNow I\u2019m opening out like the largest telescope that ever was! Good-bye, feet!\u201d "
            "(for when she looked down at her feet, they seemed to be almost out of sight, they were getting "
            "so far off).",
            "Just then her head struck against the roof of the hall: in fact she was now more than nine feet "
            "high, and she at once took up the little golden key and hurried off to the garden door.",
            "Poor Alice! It was as much as she could do, lying down on one side, to look through into the "
            "garden with one eye; but to get through was more hopeless than ever: she sat down and began to "
            "cry again.",
        ],
    ),
    (
        "A Caucus-Race and a Long Tale",
        [
            "They were indeed a queer-looking party that assembled on the bank. The birds with draggled "
            "feathers, the animals with their fur clinging close to them, and all dripping wet, cross, and "
            "uncomfortable.",
            "The first question of course was, how to get dry again: they had a consultation about this, and "
            "after a few minutes it seemed quite natural to Alice to find herself talking familiarly with them.",
            "At last the Mouse, who seemed to be a person of authority among them, called out, \u201cSit down, "
            "all of you, and listen to me! I\u2019ll soon make you dry enough!\u201d",
            "They all sat down at once, in a large ring, with the Mouse in the middle.",
        ],
    ),
]

ART_OF_WAR = [
    (
        "Laying Plans",
        [
            "Sun Tzu said: The art of war is of vital importance to the State.",
            "It is a matter of life and death, a road either to safety or to ruin. Hence it is a subject of "
            "inquiry which can on no account be neglected.",
            "The art of war, then, is governed by five constant factors, to be taken into account in one\u2019s "
            "deliberations, when seeking to determine the conditions obtaining in the field.",
            "These are: The Moral Law; Heaven; Earth; The Commander; Method and discipline.",
            "All warfare is based on deception.",
        ],
    ),
    (
        "Waging War",
        [
            "Sun Tzu said: In the operations of war, where there are in the field a thousand swift chariots, "
            "as many heavy chariots, and a hundred thousand mail-clad soldiers, the expenditure at home and at "
            "the front will reach the total of a thousand ounces of silver per day.",
            "When you engage in actual fighting, if victory is long in coming, then men\u2019s weapons will "
            "grow dull and their ardour will be damped.",
            "There is no instance of a country having benefited from prolonged warfare.",
            "In war, then, let your great object be victory, not lengthy campaigns.",
        ],
    ),
    (
        "Attack by Stratagem",
        [
            "Sun Tzu said: In the practical art of war, the best thing of all is to take the enemy\u2019s "
            "country whole and intact; to shatter and destroy it is not so good.",
            "Hence to fight and conquer in all your battles is not supreme excellence; supreme excellence "
            "consists in breaking the enemy\u2019s resistance without fighting.",
            "If you know the enemy and know yourself, you need not fear the result of a hundred battles.",
        ],
    ),
]

MOBY_DICK = [
    (
        "Loomings",
        [
            "Call me Ishmael. Some years ago\u2014never mind how long precisely\u2014having little or no money "
            "in my purse, and nothing particular to interest me on shore, I thought I would sail about a "
            "little and see the watery part of the world.",
            "It is a way I have of driving off the spleen and regulating the circulation.",
            "Whenever I find myself growing grim about the mouth; whenever it is a damp, drizzly November in "
            "my soul; then, I account it high time to get to sea as soon as I can.",
        ],
    ),
    (
        "The Carpet-Bag",
        [
            "I stuffed a shirt or two into my old carpet-bag, tucked it under my arm, and started for Cape "
            "Horn and the Pacific.",
            "Quitting the good city of old Manhatto, I duly arrived in New Bedford. It was a Saturday night "
            "in December.",
            "Much was I disappointed upon learning that the little packet for Nantucket had already sailed.",
        ],
    ),
    (
        "The Spouter-Inn",
        [
            "Entering that gable-ended Spouter-Inn, you found yourself in a wide, low, straggling entry with "
            "old-fashioned wainscots, reminding one of the bulwarks of some condemned old craft.",
            "On one side hung a very large oil-painting so thoroughly besmoked, and every way defaced, that in "
            "the unequal cross-lights by which you viewed it, it was only by diligent study that you could "
            "arrive at an understanding of its purpose.",
        ],
    ),
]

TIME_MACHINE = [
    (
        "Introduction",
        [
            "The Time Traveller (for so it will be convenient to speak of him) was expounding a recondite "
            "matter to us. His grey eyes shone and twinkled, and his usually pale face was flushed and animated.",
            "The fire burned brightly, and the soft radiance of the incandescent lights in the lilies of silver "
            "caught the bubbles that flashed and passed in our glasses.",
        ],
    ),
    (
        "The Machine",
        [
            "The thing the Time Traveller held in his hand was a glittering metallic framework, scarcely larger "
            "than a small clock, and very delicately made.",
            "There was ivory in it, and some transparent crystalline substance.",
        ],
    ),
]
