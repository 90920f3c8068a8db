"""Generic writing tasks that rule pairs attach IFEval-style constraints to.

Written for this project (not taken from IFEval); a test checks that no training prompt
equals or contains an IFEval prompt. Short answers fit each one, so a 160-token sample can
meet its constraints.
"""

from __future__ import annotations

BUILTIN_TASKS: tuple[str, ...] = (
    "Write a short note to a neighbour about a lost cat.",
    "Describe a quiet morning at a lake.",
    "Explain why people enjoy gardening.",
    "Give advice to someone starting their first job.",
    "Describe the smell of fresh bread.",
    "Write a thank-you message to a teacher.",
    "Explain how a bicycle works to a child.",
    "Suggest a weekend plan for a rainy day.",
    "Describe your ideal small library.",
    "Write a short review of an imaginary café.",
    "Explain why sleep matters for students.",
    "Write a welcome message for a new hiking club member.",
    "Describe a busy market in the early morning.",
    "Give tips for keeping houseplants alive.",
    "Explain what a volcano is.",
    "Write a short story about a lighthouse keeper.",
    "Describe the sound of rain on a tin roof.",
    "Write an invitation to a neighbourhood picnic.",
    "Explain how to make a cup of tea.",
    "Describe a friendly dog you met in a park.",
    "Give reasons to learn a second language.",
    "Write a short speech for a school sports day.",
    "Explain why bees are important.",
    "Describe a train journey through the mountains.",
    "Write a note reminding a friend about a dentist appointment.",
    "Suggest names for a new bakery and explain one of them.",
    "Explain how recycling helps a town.",
    "Describe the view from a city rooftop at night.",
    "Give advice on packing for a short trip.",
    "Write a product blurb for a wooden desk lamp.",
    "Explain what makes a good team meeting.",
    "Describe an old bookshop.",
    "Write a postcard message from a seaside town.",
    "Explain how the moon changes shape during a month.",
    "Give tips for a first visit to a museum.",
    "Describe a winter walk in the forest.",
    "Write a short apology for arriving late to a meeting.",
    "Explain why maps are useful.",
    "Describe a family dinner tradition.",
    "Suggest three hobbies for someone who likes being outdoors.",
    "Write a short announcement about a community clean-up day.",
    "Explain how a library card works.",
    "Describe the first day of spring in a village.",
    "Give advice to someone learning to cook.",
    "Write a short poem about a kite.",
    "Explain why people keep diaries.",
    "Describe a street musician playing in the square.",
    "Write a message to a friend who just moved to a new city.",
)
