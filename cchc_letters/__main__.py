from cchc_letters.cli import main

main()
