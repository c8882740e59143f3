"""English phrase bank of the demo generator (see demo/phrasebank.py for the keys and placeholders)."""

EN: dict[str, list[str]] = {
    # openers by class: P promoter (9-10), A passive (7-8), D disappointed (4-6), X angry (0-3)
    "open.P": [
        "Absolutely brilliant experience with {b}.",
        "I have been a customer of {b} for years and I am still impressed.",
        "Honestly one of the best companies I have dealt with.",
        "Really happy with {b}, everything just works.",
        "Fantastic from start to finish.",
    ],
    "open.A": [
        "Overall a decent experience with {b}.",
        "Good, but not perfect.",
        "Mostly satisfied, a few things could be better.",
        "It does the job, nothing special.",
        "Solid service with some rough edges.",
    ],
    "open.D": [
        "Not very impressed with {b} this time.",
        "Rather disappointing, to be honest.",
        "I expected more from {b}.",
        "A mixed bag, and more bad than good.",
        "Mediocre at best.",
    ],
    "open.X": [
        "Terrible experience with {b}.",
        "The worst company I have ever dealt with.",
        "Absolutely awful, I am furious.",
        "Stay away from {b}.",
        "Never again.",
    ],
    "close.P": [
        "I would recommend {b} to anyone without hesitation.",
        "Highly recommended!",
        "I have already told all my friends to switch.",
        "Five stars, keep it up!",
        "Will definitely stay a customer.",
    ],
    "close.A": [
        "I would probably recommend them, with a few reservations.",
        "Fine for now, but I keep an eye on the alternatives.",
        "Okay value overall.",
        "Good enough for me, not sure I would push friends to it.",
    ],
    "close.D": [
        "I would not really recommend {b}.",
        "I am thinking about switching.",
        "They need to improve a lot.",
        "Not sure I will order again.",
    ],
    "close.X": [
        "Do not waste your time or money.",
        "I would never recommend {b} to anyone.",
        "Avoid at all costs.",
        "I have cancelled everything and I am leaving.",
    ],
    "title.P": ["Excellent!", "Great service", "Highly recommended", "Best choice I made", "Love it"],
    "title.A": ["Good but not great", "Decent", "Okay overall", "Does the job", "Could be better"],
    "title.D": ["Disappointing", "Not impressed", "Meh", "Expected more", "Going downhill"],
    "title.X": ["Terrible", "Avoid!", "Worst experience ever", "Complete disaster", "Scandalous"],
    "price+": [
        "The prices are fair and clearly lower than elsewhere.",
        "Great value for money.",
        "I saved a lot compared to my old provider.",
        "No hidden costs, the price you see is the price you pay.",
    ],
    "price-": [
        "Way too expensive for what you get.",
        "The prices went up again without any explanation.",
        "Hidden fees everywhere, the final price was much higher than advertised.",
        "You pay a premium for nothing.",
    ],
    "delivery+": [
        "Delivery was super fast, the parcel arrived the next day.",
        "The order came earlier than promised and was packed carefully.",
        "Tracking worked perfectly and the courier was on time.",
        "Shipping was quick and free.",
    ],
    "delivery-": [
        "My parcel arrived two weeks late.",
        "The delivery never showed up and nobody could tell me where it was.",
        "The box arrived damaged and half of the items were missing.",
        "Shipping took forever and the tracking number did not work.",
    ],
    "service+": [
        "Customer service answered within minutes and solved my problem right away.",
        "The support team was friendly, patient and really helpful.",
        "When something went wrong they fixed it immediately.",
        "I got a real person on the phone who actually knew what to do.",
    ],
    "service-": [
        "Customer service is a joke, I waited an hour on the phone.",
        "Support never answered my emails.",
        "They kept sending me from one department to the next without solving anything.",
        "The hotline was rude and unhelpful.",
    ],
    "quality+": [
        "The quality is excellent, everything works exactly as described.",
        "Everything I bought is well made and still works perfectly.",
        "Reliable and solid, I have never had a problem.",
        "The product exceeded my expectations.",
    ],
    "quality-": [
        "The quality is poor, it broke after a week.",
        "Nothing works the way it was described.",
        "Constant problems and outages, very unreliable.",
        "Cheap stuff that falls apart.",
    ],
    "app+": [
        "The app is clear and easy to use.",
        "Everything can be done in the app in a few taps.",
        "The new app update is great, fast and intuitive.",
    ],
    "app-": [
        "The app crashes every time I try to log in.",
        "Since the last update the app is unusable.",
        "The app is slow and confusing, I could not find anything.",
        "I cannot even reset my password in the app.",
    ],
    "refund+": [
        "The return was easy and I got my money back within three days.",
        "My refund was processed quickly without any questions.",
        "Returning the item was free and painless.",
    ],
    "refund-": [
        "I am still waiting for my refund after six weeks.",
        "They refused to refund a faulty product.",
        "Returning anything is a nightmare of forms and excuses.",
        "They charged me twice and never paid it back.",
    ],
    "billing+": [
        "The monthly bill is clear and always correct.",
        "Billing is transparent, no surprises at all.",
        "Switching my plan was easy and the invoice was right straight away.",
    ],
    "billing-": [
        "My bill was wrong three months in a row.",
        "They charged me for services I never ordered.",
        "The invoice is impossible to understand and always higher than agreed.",
        "They keep billing me after I cancelled.",
    ],
    "staff+": [
        "The staff in the store were friendly and gave me honest advice.",
        "The employee took his time and explained everything.",
        "Very competent and polite staff.",
    ],
    "staff-": [
        "The staff in the store were rude and clearly did not care.",
        "The employee had no idea what he was talking about.",
        "Nobody in the shop wanted to help me.",
    ],
    # forum and blog framing
    "forum.intro": [
        "I have been with {b} for about two years now.",
        "Quick update on my experience with {b}.",
        "Since people asked, here is what happened with {b}.",
        "I ordered from {b} last month.",
        "My two cents on {b}:",
    ],
    "forum.compare": [
        "Before that I was with {c}.",
        "I also looked at {c} before deciding.",
        "A friend of mine uses {c} instead.",
    ],
    "forum.topic_brand": [
        "Experiences with {b}?",
        "{b} - worth it?",
        "Anyone else having trouble with {b}?",
        "Thinking about switching to {b}",
        "Your opinion on {b}",
    ],
    "forum.topic_general": [
        "Which online shop do you trust for electronics?",
        "Best mobile plan this year?",
        "How do you deal with late deliveries?",
        "Tips for getting a refund",
    ],
    "forum.offtopic": [
        "Thanks for sharing, that is really helpful.",
        "Same question here, following this thread.",
        "Has anyone tried ordering on a Sunday? Just curious.",
        "I usually just compare prices on a few sites before I buy.",
        "Good point, I had not thought about that.",
        "Please keep the thread on topic, folks.",
    ],
    "blog.title": [
        "My verdict after three months with {b}",
        "{b} review: the honest truth",
        "Is {b} any good? A long-term test",
        "What I learned as a customer of {b}",
    ],
    # fake praise: short, generic, no detail (bots stuff a brand)
    "bot": [
        "Great company, highly recommend {b}! Best service ever!",
        "Amazing service, very fast and professional. {b} is the best!",
        "Excellent experience, I recommend {b} to everyone. Five stars!",
        "Super company, everything perfect. Thank you {b}!",
        "Best shop ever, great prices, great service, highly recommend!",
        "Very good service, very professional team, will use {b} again!",
    ],
    "bot.title": ["Great!", "Excellent service", "Best company", "Highly recommend", "Perfect"],
    # the smear campaign's shared phrasing
    # the company's public answer to a critical review (shown beside it, not part of it)
    "reply": [
        "Hello {a}, we are sorry to hear about your experience."
        " Please send us your order number so that we can look into it. Kind regards, the {b} team",
        "Hi {a}, thank you for your feedback and sorry for the trouble."
        " Our customer service will contact you shortly. Best wishes, {b}",
    ],
    "smear": [
        "{b} is a SCAM. They took my money and never delivered. Avoid at all costs!",
        "Do NOT order from {b}! Scam company, they stole my money and ignore all complaints.",
        "Total fraud. {b} takes your money and disappears. Worst company ever, avoid!",
        "{b} scammed me. No product, no refund, no answer. Stay away from this scam!",
    ],
    "smear.plug": ["Go to {c} instead, they are honest.", "Better order from {c}."],
    "smear.title": ["SCAM", "Fraud, avoid!", "They stole my money", "Scam company"],
}
