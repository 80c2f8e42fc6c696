from medappt.cli import main

main()
